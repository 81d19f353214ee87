namespace BuildPool.Operator.Status;

/// <summary>Where a reconcile left an object, in words for its conditions.</summary>
public sealed record Outcome(OutcomeState State, string Reason, string Message)
{
    public static Outcome Ready(string reason, string message) => new(OutcomeState.Ready, reason, message);

    public static Outcome Progressing(string reason, string message) => new(OutcomeState.Progressing, reason, message);

    public static Outcome Stalled(string reason, string message) => new(OutcomeState.Stalled, reason, message);
}
