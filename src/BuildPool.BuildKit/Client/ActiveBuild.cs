namespace BuildPool.BuildKit.Client;

/// <summary>A build the daemon reports as running (from ListenBuildHistory, active only).</summary>
public sealed record ActiveBuild(string Ref, DateTimeOffset? CreatedAt);
