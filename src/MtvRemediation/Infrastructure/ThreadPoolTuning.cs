using System;
using System.Threading;

namespace MtvRemediation.Infrastructure
{
    /// <summary>
    /// SSH.NET blocks thread-pool threads in some waits and completes its tasks there; with the
    /// default minimum (one per core) a fan-out of dozens of connects waits on the pool's slow
    /// thread injection (measured: 8 connects 3.2 s instead of 0.5 s). Raise the minimum once.
    /// </summary>
    internal static class ThreadPoolTuning
    {
        private static readonly object Gate = new object();

        public static void EnsureMinThreads(int parallelism)
        {
            var wanted = Math.Max(16, parallelism * 2 + 8);
            lock (Gate)
            {
                ThreadPool.GetMinThreads(out var worker, out var io);
                if (worker >= wanted) return;
                ThreadPool.SetMinThreads(wanted, Math.Max(io, wanted));
            }
        }
    }
}
