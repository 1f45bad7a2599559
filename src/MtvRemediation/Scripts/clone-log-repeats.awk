# The frequent lines (clone-log-scan.sh $4): with -Since all of them, without it the first max
# lines only (formatting them); the first max are sent, the rest counted.
# @include clone-log-fields.awk
  c++; if (c <= max) print "M\t" n "\t" t; else { ln = n; last = t } }
END { if (c > max) print "R\t" (c - max) "\t" ln "\t" last }
