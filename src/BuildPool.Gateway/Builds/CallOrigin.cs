namespace BuildPool.Gateway.Builds;

/// <summary>What the connection and the call's headers say about who is building (the connection-level key inputs).</summary>
/// <param name="Authority">The <c>:authority</c> the client sent.</param>
/// <param name="ServerName">The TLS server name (SNI), when the connection is TLS.</param>
/// <param name="ClientIdentity">The client certificate's identity, when one was presented.</param>
public readonly record struct CallOrigin(string? Authority, string? ServerName, string? ClientIdentity);
