using BuildPool.Api.Units;
using BuildPool.Gateway.Routing;
using BuildPool.Gateway.Server;

namespace BuildPool.Gateway.Builds;

// Reads what BuildRouter decides a build by, under the correlator's lock: the key the build has
// offered (and whether a better one may still come), and what placement, admission and pool mode
// say for that key now. Placing a Dedicated key without a volume tells the builder starter, as
// every placement of it does; nothing else here changes anything.
internal sealed class RoutingFactsReader(KeyExtractor extractor, Placement placement, PoolMode pool, ForkRouting? forks)
{
    // False while a key source ranked above the best key so far is not known yet (a later call
    // may bring it); with force, the build is decided with what is known.
    public bool TryKey(BuildUnit unit, bool force, out RoutingKey? key)
    {
        var sources = extractor.Sources;
        var firstUnknown = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (!unit.Knows(sources[i]))
            {
                firstUnknown = i;
                break;
            }
        }

        var inputs = new KeyInputs
        {
            Authority = unit.Origin.Authority,
            ServerName = unit.Origin.ServerName,
            ClientIdentity = unit.Origin.ClientIdentity,
            Solve = unit.Solve ?? default,
            SessionSharedKey = unit.Knows(RoutingKeySource.SessionDirectory) ? unit.SharedKey : null,
        };
        key = extractor.TryExtract(inputs, out var found) ? found : null;
        return force || firstUnknown < 0 || (key is { } k && IndexOf(sources, k.Source) <= firstUnknown);
    }

    public RoutingFacts Read(BuildUnit unit, RoutingKey? chosen, TimeSpan now)
    {
        var holds = unit.Holds;
        // Keys are case-insensitive (DNS names, image names): one project must not become two keys.
        chosen = chosen is { } c ? c with { Value = c.Value.ToLowerInvariant() } : null;
        var (key, refusal, status) = chosen is { } named ? Scope(unit.Origin, named) : (null, null, 0);
        var facts = new RoutingFacts
        {
            Now = now,
            Key = key,
            KeyRefusal = refusal,
            KeyRefusalStatus = status,
            Untrusted = pool.Isolation.UntrustedBecause(chosen?.Value, unit.Origin.ClientIdentity, unit.Origin.Tenant),
            CanStartBuilders = pool.Starter is not null,
            CanFork = forks is not null,
            ForkTimeout = pool.Forks?.StartTimeout ?? TimeSpan.Zero,
            StartWaited = holds.StartWaited,
            StartFailure = holds.StartFailure,
            OverflowWaitSince = holds.OverflowWaitSince,
            IsolationBase = holds.Isolation?.Base,
            IsolationRequestedAt = holds.Isolation?.RequestedAt,
        };
        if (refusal is not null)
        {
            // Never placed: a refused key must not become a Dedicated volume's demand.
            return facts;
        }

        if (key is not { } k)
        {
            return facts with { Placed = placement.PlaceAny(), Followed = Followed(unit.Connection) };
        }

        var placed = placement.Place(k.Value);
        if (facts.Untrusted is not null)
        {
            return facts with { Placed = placed, IsolatedFork = holds.Isolation is { } claim ? forks?.IsolatedFork(claim.BuildId) : null };
        }

        var spilled = placed.NeedsStart ? placement.Place(k.Value, allowStopped: false) : placed;
        facts = facts with { Placed = placed, Spilled = spilled };
        if (forks is null || spilled.Backend is not { State: BackendState.Ready, ForksOnOverflow: true } home || !forks.WouldQueue(home.Id))
        {
            return facts;
        }

        var free = forks.FreeFork(home.Id);
        return facts with { WouldQueue = true, FreeFork = free, ForkPending = free is null && forks.ForkPending(home.Id) };
    }

    // The key a build routes by: checked against the key rule, then in its tenant's key space
    // (TenantInfo.Scope), so whatever image or directory name a tenant sends, it reaches only its
    // own keys and the keys its binding shares. Or why the key is refused, with the gRPC status.
    private (RoutingKey? Key, string? Refusal, int Status) Scope(in CallOrigin origin, RoutingKey chosen)
    {
        if (chosen.Source == RoutingKeySource.Authority && origin.Tls && extractor.AuthorityRefusal(origin.Authority, origin.ServerName) is { } mismatch)
        {
            return (null, mismatch, GrpcStatusResponse.PermissionDenied);
        }

        var tenant = origin.Tenant;
        if (RoutingKeyName.Check(chosen.Value, tenant?.PrefixLength(chosen.Value) ?? 0) is { } why)
        {
            var shown = chosen.Value.Length > 80 ? string.Concat(chosen.Value.AsSpan(0, 80), "...") : chosen.Value;
            return (null, $"routing key \"{shown}\" (from {chosen.Source}) refused: {why}; a routing key is {RoutingKeyName.Rule}", GrpcStatusResponse.InvalidArgument);
        }

        return (tenant is null ? chosen : chosen with { Value = tenant.Scope(chosen.Value) }, null, 0);
    }

    private Backend? Followed(ClientConnection? connection)
    {
        if (connection?.LastKeyedBackend is { } last)
        {
            foreach (var backend in placement.Backends)
            {
                if (backend.Id == last && backend.State == BackendState.Ready && backend.ForkOf is null)
                {
                    return backend;
                }
            }
        }

        return null;
    }

    private static int IndexOf(IReadOnlyList<RoutingKeySource> sources, RoutingKeySource source)
    {
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] == source)
            {
                return i;
            }
        }

        return -1;
    }
}
