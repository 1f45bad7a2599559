# The rare signatures' filter (clone-log-scan.sh $3). HostCloneLogScanner puts the signature table
# in place of the @...@ words: the patterns are regex LITERALS here because BusyBox awk recompiles
# a regex held in a variable on every match (measured: 10 s vs 0.5 s for a million lines).
# Variables: max (repeat limit, 0 = none), since, own (1: the frequent lines are counted by the
# other job, skip them).
# @include clone-log-fields.awk
  lt = tolower(t)
  if (lt !~ /@SIGNATURES_ERE@/) next
  if (own && (@FREQUENT_TOKENS_IN_T@)) next
  if (max > 0 && lt ~ /@FREQUENT_ERE@/) { c++; if (c > max) { ln = n; last = t; next } }
  print "M\t" n "\t" t }
END { if (max > 0 && c > max) print "R\t" (c - max) "\t" ln "\t" last }
