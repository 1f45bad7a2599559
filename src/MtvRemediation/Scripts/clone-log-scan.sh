# Find-MtvCloneFailure's host-side scan (HostCloneLogScanner starts it and parses its output): the
# wrapper logs are read where they lie and only matching lines stream back.
#   $1  repeat limit: the first $1 frequent (XcopyNotUsed) lines are sent, the rest counted; 0: all sent
#   $2  -Since as 'yyyy-MM-dd HH:mm:ss' (UTC, seconds), or empty
#   $3  awk program for the rare signatures (clone-log-scan.awk)
#   $4  awk program for the frequent lines (clone-log-repeats.awk)
#   $5  the rare signatures' case-sensitive grep tokens, one a line
#   $6  the frequent signatures' exact spellings, one a line
#   $7... the log paths (absolute, no wildcards): each file itself, "<path>.*" (log.1, log.1.gz,
#       archives) and for *.log the ESXi-style "<stem>.<n>[.gz]" beside it
# Output, one record a line, tab-separated, text last so tabs in it survive:
#   F <path>                   a log file starts (the path a field of field.sh: a file beside the log
#                              may have any name)
#   M <lineno> <text>          a matching line
#   R <count> <lineno> <text>  count more frequent-signature lines; the last one (lineno 0: the
#                              host counted them without numbering the last one)
#   D <files>                  the scan finished (absent: the command was cut short)
# A line's text is what grep printed: one line of the log, so it holds no line break of its own.
# A plain log file is read by two jobs at once (measured on a 1 GiB 2.10 log with 3 million
# "XCOPY used: False" polls: 0.58 s, against 0.30 s for one `grep -c` of one string):
#   - the rare signatures: BusyBox `grep -n -F` with their tokens, then awk with the signatures'
#     ERE on the lower-cased line and the -Since check. Few lines reach awk, which skips the lines
#     the second job owns.
#   - the frequent lines, by their exact spellings: the first $1 numbered (`grep -m`), then
#     `grep -c` and the last one from the file's tail. Passing 3 million lines through awk instead
#     cost 1.3 s; numbering the last one 0.3 s more. With -Since the lines' timestamps matter, so
#     they go through awk after all.
# .gz rotations, syslog files and a repeat limit of 0 take one `grep | awk` pass with every token.
# @include field.sh
max=$1 since=$2 prog=$3 rprog=$4 rare_tokens=$5 freq_tokens=$6
shift 6
nl='
'
n=0

# grep_tokens LIST ARG...: grep -e <line 1 of LIST> -e <line 2> ... ARG... (the tokens are values:
# never split by IFS nor globbed).
grep_tokens() {
  _list=$1; shift; _k=$#
  while [ -n "$_list" ]; do
    set -- "$@" -e "${_list%%"$nl"*}"
    case $_list in *"$nl"*) _list=${_list#*"$nl"} ;; *) _list= ;; esac
  done
  # The caller's arguments go after the tokens.
  while [ "$_k" -gt 0 ]; do set -- "$@" "$1"; shift; _k=$((_k - 1)); done
  grep "$@"
}
all() { grep_tokens "$rare_tokens$nl$freq_tokens" -n -F "$@"; }
rare() { grep_tokens "$rare_tokens" -n -F "$@"; }
freq() { grep_tokens "$freq_tokens" -F "$@"; }

repeats() {
  if [ -n "$since" ]; then freq -n "$1" | awk -v max="$max" -v since="$since" "$rprog"; return; fi
  first=$(freq -n -m "$max" "$1")
  [ -n "$first" ] || return 0
  printf '%s\n' "$first" | awk -v max="$max" -v since= "$rprog"
  [ "$(printf '%s\n' "$first" | grep -c '')" -ge "$max" ] || return 0
  c=$(freq -c "$1")
  [ "$c" -gt "$max" ] || return 0
  # The last one from the last MiB (its first, partial line dropped), else the whole file.
  last=$(tail -c 1048576 "$1" | sed 1d | freq | tail -n 1)
  [ -n "$last" ] || last=$(freq "$1" | tail -n 1)
  printf 'R\t%s\t0\t%s\n' "$((c - max))" "$last"
}

for b in "$@"; do
  set -- "$b" "$b".*
  case "$b" in *.log) set -- "$@" "${b%.log}".[0-9]* ;; esac
  for f in "$@"; do
    [ -f "$f" ] || continue
    n=$((n+1))
    field "$f"; printf 'F\t%s\n' "$field"
    case "$f" in
      # A syslog file holds every program's lines: only the wrapper's (tagged vmkfstools-wrapper,
      # whatever the line format around the tag) are classified.
      */syslog.log|*/syslog.[0-9]*) { case "$f" in *.gz) zcat "$f" ;; *) cat "$f" ;; esac; } | grep -n -F vmkfstools-wrapper | awk -v max="$max" -v since="$since" -v own=0 "$prog" ;;
      *.gz) zcat "$f" | all | awk -v max="$max" -v since="$since" -v own=0 "$prog" ;;
      *) if [ "$max" -gt 0 ]; then
           rare "$f" | awk -v max=0 -v since="$since" -v own=1 "$prog" &
           r=$(repeats "$f"); wait $!
           [ -z "$r" ] || printf '%s\n' "$r"
         else
           all "$f" | awk -v max=0 -v since="$since" -v own=0 "$prog"
         fi ;;
    esac
  done
done
printf 'D\t%s\n' "$n"
