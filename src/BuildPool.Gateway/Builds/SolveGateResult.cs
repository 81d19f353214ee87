namespace BuildPool.Gateway.Builds;

/// <summary>How a held Status or LLBBridge call goes on: forwarded (<see cref="Forward"/>), or ended with the Solve's status.</summary>
public readonly record struct SolveGateResult(int GrpcStatus, string? Message)
{
    public static SolveGateResult Forward => new(-1, null);

    public bool Forwards => Message is null;
}
