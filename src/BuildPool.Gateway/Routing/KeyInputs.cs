using BuildPool.BuildKit.Wire;

namespace BuildPool.Gateway.Routing;

/// <summary>
/// Everything a build has offered so far that can name its project, gathered from its
/// connection and its calls. Absent values are null.
/// </summary>
public readonly record struct KeyInputs
{
    /// <summary>The HTTP/2 <c>:authority</c> of the build's calls.</summary>
    public string? Authority { get; init; }

    /// <summary>The TLS server name (SNI) of the connection.</summary>
    public string? ServerName { get; init; }

    /// <summary>The client certificate identity (subject CN or URI SAN).</summary>
    public string? ClientIdentity { get; init; }

    /// <summary>The Solve request's fields, once its first message has been read.</summary>
    public SolveRequestFields Solve { get; init; }

    /// <summary>The <c>X-Docker-Expose-Session-Sharedkey</c> header of the build's Session.</summary>
    public string? SessionSharedKey { get; init; }
}
