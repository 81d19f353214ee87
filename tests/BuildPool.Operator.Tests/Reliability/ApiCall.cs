namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// One request an operator instance sent, as its own HTTP client saw it. <see cref="Status"/> is
/// null when no response came back (the instance was killed, or the connection failed).
/// </summary>
internal sealed record ApiCall(
    string Instance,
    string Verb,
    string Resource,
    string? Namespace,
    string? Name,
    int? Status,
    DateTimeOffset Started,
    DateTimeOffset Ended)
{
    private static readonly HashSet<string> WriteVerbs = ["create", "update", "patch", "delete", "deletecollection"];

    public bool IsWrite => WriteVerbs.Contains(Verb);

    /// <summary>Leader election's own traffic, which a standby replica is allowed to make.</summary>
    public bool IsLease => Resource.StartsWith("leases", StringComparison.Ordinal);

    /// <summary>A write a reconcile made: anything but the lease.</summary>
    public bool IsReconcileWrite => IsWrite && !IsLease;

    public override string ToString() =>
        $"{Started:HH:mm:ss.fff} {Instance} {Verb} {Resource} {Namespace}/{Name} -> {Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no response"}";
}
