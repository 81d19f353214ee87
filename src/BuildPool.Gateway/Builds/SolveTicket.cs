using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Tenants;

namespace BuildPool.Gateway.Builds;

// One Solve's share of its builder: counted toward the builder's load from the routing decision
// and queued for an admission slot at the same moment, both under the correlator's lock so
// concurrent decisions see each other's load.
internal sealed class SolveTicket(CancellationToken aborted)
{
    public CancellationToken Aborted { get; } = aborted;

    // The Solve's own tenant: its slot is taken before the builder's.
    public TenantInfo? Tenant { get; init; }

    public PlacementLoad? Load { get; set; }

    public Task<AdmissionLease>? Admission { get; set; }

    // When it joined its builder's queue (the admission clock's timestamp), to count who is ahead.
    public long IssuedAt { get; set; }

    public void Release()
    {
        Load?.Dispose();
        if (Admission is { } admission)
        {
            // Normally complete (the Solve awaited it); if the call left while queued, its
            // cancellation ends the wait, and a slot granted in that same instant goes back.
            admission.ContinueWith(
                static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }
}
