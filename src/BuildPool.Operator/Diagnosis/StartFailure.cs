namespace BuildPool.Operator.Diagnosis;

/// <summary>
/// Why a builder or gateway does not start, in the words of a condition: a reason a dashboard can
/// group by (the kubelet's own where it has one) and a message saying what to change.
/// </summary>
public sealed record StartFailure(string Reason, string Message);
