namespace BuildPool.Gateway.Routing;

/// <summary>How keys map to builders; mirrors <c>BuildPool.Api.V1Alpha1.AssignmentMode</c> by name.</summary>
public enum AssignmentMode
{
    /// <summary>Keys share the builders by consistent hashing with bounded loads.</summary>
    Hashed,

    /// <summary>Each key has its own builder, listed in that builder's <see cref="Backend.Keys"/>.</summary>
    Dedicated,
}
