# Restart-EsxiAgents: does hostd serve API requests again? '/etc/init.d/hostd status' only says
# that the process exists; vim-cmd is hostd's own local API client, so an answer
# to 'vim-cmd hostsvc/hostsummary' means hostd serves requests. Its output is a vmodl dump that
# begins with '(vim.host.Summary) {'; its wording and exit status while hostd is still starting
# are unverified, so only an exit status 0 together with that type name counts as serving.
# Sources: docs/field-sources.md#5-management-agents.
if ! command -v vim-cmd >/dev/null 2>&1; then
  echo "@@probe"
  echo "missing"
  echo "@@end"
  exit 0
fi
out=$(vim-cmd hostsvc/hostsummary 2>&1)
rc=$?
echo "@@probe"
case $out in
  *'(vim.host.Summary)'*) [ "$rc" -eq 0 ] && echo serving || echo "not-serving rc=$rc" ;;
  *) echo "not-serving rc=$rc" ;;
esac
echo "@@end"
