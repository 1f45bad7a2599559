# wrapper_payload: the wrapper payload's interpreter line, then its SCRIPT_VERSION line (if any);
# nothing when the payload is missing. The one reader of the payload for the wrapper inventory and
# the clear/rotation pre-check: WrapperGeneration classifies what it prints.
wrapper_payload() {
  p=/opt/redhat/vmkfstools-wrapper
  [ -f "$p" ] || return 0
  IFS= read -r first < "$p"; printf '%s\n' "$first"
  grep -m 1 '^SCRIPT_VERSION' "$p" 2>/dev/null || grep '^SCRIPT_VERSION' "$p" | head -n 1
}
