using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;

namespace BuildPool.Gateway.Builds;

// A routed Solve's share of its builder: counted toward the builder's load and queued for an
// admission slot (its tenant's first, when it has a limit) in one step. Called under the
// correlator's lock, in the same step as the decision, so the next decision sees this load.
internal sealed class SolveAdmission(Placement placement, AdmissionController admission, PoolMode pool, GatewayMetrics? metrics)
{
    public void Issue(SolveTicket ticket, BuildRoute route)
    {
        if (route.Backend is not { } backend)
        {
            return;
        }

        ticket.Load = placement.Track(backend.Id);
        ticket.IssuedAt = admission.TimeProvider.GetTimestamp();
        pool.Starter?.Used(backend.Id);
        ticket.Admission = pool.Tenants is { } tenants
            ? tenants.AdmitAsync(ticket.Tenant, BuilderSlot(backend.Id), ticket.Aborted)
            : admission.AcquireAsync(backend.Id, ticket.Aborted).AsTask();
        metrics?.BuildsRouted.Add(
            1,
            new KeyValuePair<string, object?>("key_source", route.KeySourceLabel),
            new KeyValuePair<string, object?>("backend", backend.Id));
        if (route.Outcome == PlacementOutcome.Isolated)
        {
            metrics?.BuildsIsolated.Add(1, new KeyValuePair<string, object?>("volume", backend.ForkOf));
        }
        else if (route.Outcome == PlacementOutcome.Forked)
        {
            metrics?.BuildsForked.Add(1, new KeyValuePair<string, object?>("volume", backend.ForkOf));
        }
    }

    // Builds queued on the ticket's builder that joined its queue before it did.
    public int QueuedAhead(string backendId, SolveTicket ticket) => admission.QueuedBefore(backendId, ticket.IssuedAt);

    private Func<CancellationToken, ValueTask<AdmissionLease>> BuilderSlot(string backendId) =>
        aborted => admission.AcquireAsync(backendId, aborted);
}
