# Restart-EsxiAgents' pre-check: is vSAN networking or LACP configured on this host?
# VMware's agent-restart KB warns that restarting all services with either in use can cut the
# host off; the engine reads each section's output and exit code (RemoteOps.Sections).
echo @@vsan
esxcli vsan network list 2>&1
echo "@@rc $?"
echo @@lacp
esxcli network vswitch dvs vmware lacp status get 2>&1
echo "@@rc $?"
echo @@end
