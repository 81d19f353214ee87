using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Isolation;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Builds;

// Reads of placement and admission that fork routing decides by. Lock-free (both are thread-safe
// snapshots), so the waits can check them off the correlator's lock. Fork sets are small: a scan
// of the backends is cheaper than keeping an index in step with discovery.
internal sealed class ForkRouting(Placement placement, AdmissionController admission, IForkRequester forks)
{
    public bool WouldQueue(string backendId)
    {
        var counts = admission.GetCounts(backendId);
        return counts.Running + counts.Queued >= counts.Capacity;
    }

    // The least loaded ready overflow fork of the base with a free slot.
    public Backend? FreeFork(string baseId)
    {
        Backend? best = null;
        var bestLoad = int.MaxValue;
        foreach (var backend in placement.Backends)
        {
            if (backend.ForkOf != baseId || backend.IsolatedFor is not null || backend.State != BackendState.Ready)
            {
                continue;
            }

            var counts = admission.GetCounts(backend.Id);
            var load = counts.Running + counts.Queued;
            if (load < counts.Capacity && load < bestLoad)
            {
                best = backend;
                bestLoad = load;
            }
        }

        return best;
    }

    // Whether a fork of the base may still free up for a waiting build: the limits leave room for
    // another, or one is still starting. Otherwise waiting is pointless and the build queues on the base.
    public bool ForkPending(string baseId)
    {
        var limits = forks.Limits;
        int mine = 0, pool = 0;
        var starting = false;
        foreach (var backend in placement.Backends)
        {
            if (backend.ForkOf is null)
            {
                continue;
            }

            pool++;
            if (backend.ForkOf == baseId)
            {
                mine++;
                starting |= backend.IsolatedFor is null && backend.State == BackendState.Stopped;
            }
        }

        return starting || (mine < limits.MaxPerVolume && pool < limits.MaxPerPool);
    }

    // Overflow forks the base needs for the builds waiting for one and those already on its forks.
    public int WantedForks(string baseId, int waiting)
    {
        var capacity = Math.Max(1, admission.GetCounts(baseId).Capacity);
        var onForks = 0;
        foreach (var backend in placement.Backends)
        {
            if (backend.ForkOf == baseId && backend.IsolatedFor is null)
            {
                var counts = admission.GetCounts(backend.Id);
                onForks += counts.Running + counts.Queued;
            }
        }

        return (waiting + onForks + capacity - 1) / capacity;
    }

    public Backend? IsolatedFork(string buildId)
    {
        foreach (var backend in placement.Backends)
        {
            if (backend.IsolatedFor == buildId && backend.ForkOf is not null)
            {
                return backend;
            }
        }

        return null;
    }
}
