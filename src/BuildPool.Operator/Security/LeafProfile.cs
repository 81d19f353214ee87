namespace BuildPool.Operator.Security;

/// <summary>What a certificate issued by a pool CA says about its holder.</summary>
/// <param name="CommonName">Subject CN; the subject is <c>CN=&lt;CommonName&gt;, O=buildpool.dev</c>.</param>
/// <param name="DnsNames">Subject alternative names; empty for client certificates.</param>
/// <param name="ServerAuth">Usable as a TLS server certificate.</param>
/// <param name="ClientAuth">Usable as a TLS client certificate.</param>
public sealed record LeafProfile(string CommonName, IReadOnlyList<string> DnsNames, bool ServerAuth, bool ClientAuth);
