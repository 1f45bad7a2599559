using System;
using System.Collections.Generic;
using System.Threading;

namespace MtvRemediation.VSphere
{
    /// <summary>
    /// vCenter's view of a host (HostSystem.runtime.connectionState). The vCenter layer implements
    /// it over the runspace's connection; without a connection the restart waits on the host only.
    /// </summary>
    internal interface IHostConnectionStateSource
    {
        /// <summary>
        /// Starts following the host's connection state (before the restart, so the stale
        /// "connected" and every later change are seen); null when vCenter does not know the host.
        /// </summary>
        IHostConnectionWatch? Watch(string hostName, CancellationToken cancellationToken);
    }

    /// <summary>One state vCenter reported, and when we learnt it.</summary>
    internal readonly struct HostStateSample
    {
        public HostStateSample(string state, DateTime at)
        {
            State = state;
            At = at;
        }

        public string State { get; }
        public DateTime At { get; }
    }

    /// <summary>A running watch of one host's connection state; disposing it ends the watch.</summary>
    internal interface IHostConnectionWatch : IDisposable
    {
        /// <summary>Every state reported so far, oldest first (the first is the state when the watch began).</summary>
        IReadOnlyList<HostStateSample> Samples { get; }

        /// <summary>Blocks until a new sample arrives (true) or <paramref name="timeout"/> passes (false). Throws when vCenter cannot be read.</summary>
        bool WaitForChange(TimeSpan timeout, CancellationToken cancellationToken);
    }
}
