namespace BuildPool.Gateway.Routing;

/// <summary>
/// Where a build goes. A struct that points at the snapshot's own <see cref="Routing.Backend"/>
/// instance, so deciding allocates nothing.
/// </summary>
/// <param name="Backend">The chosen builder; null when there is none. When its state is
/// <see cref="BackendState.Stopped"/> the caller asks the operator to start it, and may place
/// again without stopped builders after <c>startTimeout</c> to spill.</param>
/// <param name="Outcome">Why.</param>
public readonly record struct PlacementDecision(Backend? Backend, PlacementOutcome Outcome)
{
    public bool NeedsStart => Backend is { State: BackendState.Stopped };
}
