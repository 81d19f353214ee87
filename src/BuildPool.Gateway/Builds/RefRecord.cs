using BuildPool.BuildKit.Wire;

namespace BuildPool.Gateway.Builds;

// What the gateway learns about one build ref while it runs, for its log line.
internal sealed class RefRecord(string reference)
{
    public string Ref { get; } = reference;

    public StatusTally Tally { get; } = new();

    public bool SolveSeen { get; set; }

    // Opened when its Solve is forwarded; its Status and LLBBridge calls wait for it.
    public SolveGate Gate { get; } = new();

    // Its Solve's admission (null until the Solve is routed), to say how long a held call waits.
    public SolveTicket? Ticket { get; set; }

    public long SolveArrived { get; set; }

    public long SolveForwarded { get; set; }

    public long SolveEnded { get; set; }

    public TimeSpan QueueWait { get; set; }

    public int GrpcStatus { get; set; } = -1;

    public bool Reported { get; set; }

    // Its Solve ended at the gateway (queue timeout, refusal, a client that left while queued):
    // the time it waited is its queue wait, and its held calls end with the same status.
    public void EndWithoutForwarding(TimeSpan waited, int grpcStatus, string message)
    {
        if (Gate.IsOpen)
        {
            return;
        }

        QueueWait = waited;
        Gate.Close(grpcStatus, message);
    }
}
