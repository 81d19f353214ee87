namespace BuildPool.Gateway.Isolation;

/// <summary>
/// Whether a client identity (the client certificate's name, <see cref="Builds.CallOrigin.ClientIdentity"/>)
/// is untrusted: its builds only ever run on isolated forks. Static mode reads
/// <c>--untrusted-identity</c> patterns; pool mode can add the ClientAccess SecretBindings marked
/// <c>untrusted</c>.
/// </summary>
public interface IUntrustedIdentities
{
    /// <summary>True when builds of <paramref name="identity"/> must run isolated. Called per build decision, so cheap.</summary>
    bool IsUntrusted(string identity);

    /// <summary>
    /// True when some identity is untrusted now (a pattern is configured, or a live binding says
    /// <c>untrusted</c>): then a client without a certificate cannot be told from an untrusted
    /// one that left its certificate at home, and is untrusted too.
    /// </summary>
    bool AnyUntrusted { get; }
}
