namespace BuildPool.Gateway.Routing;

/// <summary>Whether a builder can take new builds.</summary>
public enum BackendState
{
    /// <summary>Running and accepting builds.</summary>
    Ready,

    /// <summary>Finishing its running builds before it stops; gets no new builds.</summary>
    Draining,

    /// <summary>Not reachable (failed, or its circuit is open); gets no new builds.</summary>
    Unavailable,

    /// <summary>Scaled to zero. Still placed on, so the gateway can ask the operator to start it.</summary>
    Stopped,
}
