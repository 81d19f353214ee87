using BuildPool.Gateway.Tenants;

namespace BuildPool.Gateway.Builds;

/// <summary>What the connection and the call's headers say about who is building (the connection-level key inputs).</summary>
/// <param name="Authority">The <c>:authority</c> the client sent.</param>
/// <param name="ServerName">The TLS server name (SNI), when the connection is TLS.</param>
/// <param name="ClientIdentity">The client certificate's identity, when one was presented.</param>
/// <param name="Tenant">
/// The tenant the gateway resolved from the client certificate (<see cref="TenantGate"/>): its
/// binding, per-tenant limit and whether its builds are untrusted. Null for an anonymous client.
/// </param>
/// <param name="Tls">The connection is TLS: its <paramref name="ServerName"/> is what the client verified the gateway's certificate against.</param>
public readonly record struct CallOrigin(string? Authority, string? ServerName, string? ClientIdentity, TenantInfo? Tenant = null, bool Tls = false);
