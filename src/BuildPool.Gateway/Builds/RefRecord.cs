using BuildPool.BuildKit.Wire;

namespace BuildPool.Gateway.Builds;

// What the gateway learns about one build ref while it runs, for its log line.
internal sealed class RefRecord(string reference)
{
    public string Ref { get; } = reference;

    public StatusTally Tally { get; } = new();

    public bool SolveSeen { get; set; }

    public long SolveArrived { get; set; }

    public long SolveForwarded { get; set; }

    public long SolveEnded { get; set; }

    public TimeSpan QueueWait { get; set; }

    public int GrpcStatus { get; set; } = -1;

    public bool Reported { get; set; }
}
