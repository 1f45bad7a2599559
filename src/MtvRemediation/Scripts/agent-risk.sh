# Restart-EsxiAgents' pre-check: is vSAN networking or LACP configured on this host?
# VMware's agent-restart KB warns that restarting all services with either in use can cut the
# host off; the engine reads each section's output and exit code (RemoteOps.Sections). The output
# names admin-chosen objects (vmknics, LAGs): one field of field.sh, so no name can start a section.
# @include field.sh
echo @@vsan
out=$(esxcli vsan network list 2>&1); rc=$?; field "$out"; echo "$field"
echo "@@rc $rc"
echo @@lacp
out=$(esxcli network vswitch dvs vmware lacp status get 2>&1); rc=$?; field "$out"; echo "$field"
echo "@@rc $rc"
echo @@end
