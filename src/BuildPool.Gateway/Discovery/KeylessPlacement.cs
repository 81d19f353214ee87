using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Discovery;

// Keyless calls (buildx's bootstrap Info/ListWorkers) and keyless passthrough connections go to
// the least loaded ready builder. When every builder is stopped, they wake the one a fixed
// pseudo-key hashes to, so a scale-to-zero pool still answers `buildx create`.
internal static class KeylessPlacement
{
    public const string BootstrapKey = "buildpool.dev/bootstrap";

    // The least loaded ready builder, after waking one when none is ready and the starter can;
    // StartFailure says why a woken builder did not come.
    public static async ValueTask<(PlacementDecision Placed, string? StartFailure)> PlaceAsync(Placement placement, IBuilderStarter? starter, CancellationToken cancellationToken = default)
    {
        var any = placement.PlaceAny();
        if (any.Backend is not null || starter is null || placement.Place(BootstrapKey) is not { Backend: not null, NeedsStart: true } wake)
        {
            return (any, null);
        }

        var failure = await starter.WaitForBuilderAsync(placement, BootstrapKey, wake, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (placement.PlaceAny(), failure);
    }
}
