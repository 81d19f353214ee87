using System.Security.Cryptography.X509Certificates;

namespace BuildPool.TestDoubles;

/// <summary>
/// TLS for a <see cref="FakeBuildKitDaemon"/>, as buildkitd serves with <c>--tlscert</c>,
/// <c>--tlskey</c> and <c>--tlscacert</c>: a server certificate, and optionally a CA every
/// client certificate must chain to (then a client without one fails the handshake).
/// </summary>
/// <param name="ServerCertificate">The server certificate with its private key.</param>
/// <param name="ClientCa">When set, clients must present a certificate this CA signed.</param>
public sealed record FakeBuilderTls(X509Certificate2 ServerCertificate, X509Certificate2? ClientCa = null);
