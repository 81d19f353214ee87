namespace BuildPool.Gateway.Builds;

/// <summary>The calls that make up one build; each names it differently.</summary>
public enum BuildCallKind
{
    /// <summary><c>Control/Session</c>: named by the <c>X-Docker-Expose-Session-Uuid</c> header.</summary>
    Session,

    /// <summary><c>Control/Solve</c>: names its ref (field 1) and its session (field 5), so it ties the two together.</summary>
    Solve,

    /// <summary><c>Control/Status</c>: named by its ref (field 1).</summary>
    Status,

    /// <summary><c>LLBBridge/*</c>: named by the <c>buildkit-controlapi-buildid</c> metadata (the ref).</summary>
    Bridge,
}
