using System.Security.Cryptography.X509Certificates;

namespace BuildPool.BuildKit.Client;

/// <summary>How the operator talks to one buildkitd.</summary>
public sealed class BuildKitClientOptions
{
    /// <summary>Deadline of one call attempt; streams that wait for builds use their own token.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts for calls that fail with a transient status (Unavailable, DeadlineExceeded, ResourceExhausted).</summary>
    public int MaxRetryAttempts { get; init; } = 3;

    /// <summary>First retry delay; later ones grow exponentially with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Client certificate for mTLS; null for h2c or server-only TLS.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>
    /// CAs the daemon's certificate may chain to (more than one while a pool moves its builders
    /// to another CA); null trusts the system store.
    /// </summary>
    public X509Certificate2Collection? CertificateAuthorities { get; init; }

    /// <summary>True to use TLS (https) even for a tcp:// address.</summary>
    public bool UseTls { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
