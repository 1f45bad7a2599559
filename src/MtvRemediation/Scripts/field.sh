# The one encoder of every variable field our scripts print (HostField.Decode is the one decoder).
# A file name can hold any byte but NUL and '/', a file's content any byte: printed raw, a line
# break or a leading '@@' would start a new record or section, a tab a new column. Encoded, a field
# holds only the bytes A-Z a-z 0-9 . _ / : , + = - as themselves and every other byte as %HH (upper
# case hex), so it never holds a space, tab, line break or '@'.
# The classes are spelled out, not ranges: ranges follow the locale in some shells and matchers.
# field VALUE: sets $field to VALUE encoded. A value of safe bytes only costs no process.
# shellcheck disable=SC2034 # $field is the function's result, read by the including script
field() {
  case $1 in
    *[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/:,+=-]*) field=$(printf '%s' "$1" | field_encode) ;;
    *) field=$1 ;;
  esac
}
# field_encode: stdin (any bytes, NUL too) encoded as one field on stdout, without a line break.
# od -b -v (POSIX: one octal number a byte, no '*' for repeated lines) then awk maps each number;
# od always prints at least its final address line: no line at all (od failed) or a word that is
# not a byte ends the field with '%!', which the decoder refuses, instead of a field cut short.
field_encode() {
  od -b -v | awk 'BEGIN { s = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/:,+=-"
      for (i = 0; i < 256; i++) e[sprintf("%03o", i)] = sprintf("%%%02X", i)
      for (i = 32; i < 127; i++) { c = sprintf("%c", i); if (index(s, c)) e[sprintf("%03o", i)] = c } }
    { for (i = 2; i <= NF; i++) if ($i in e) printf "%s", e[$i]; else bad = 1 }
    END { if (NR == 0 || bad) printf "%%!" }'
}
