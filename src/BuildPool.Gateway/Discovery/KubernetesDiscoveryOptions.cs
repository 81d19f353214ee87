using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Discovery;

/// <summary>Settings of <see cref="KubernetesDiscovery"/> beyond the pool's own spec.</summary>
public sealed record KubernetesDiscoveryOptions
{
    public KubernetesBuilderStarterOptions Annotations { get; init; } = new();

    /// <summary>How failed signal writes are tried again.</summary>
    public SignalRetryOptions SignalRetry { get; init; } = new();

    /// <summary>How often builders with running builds are marked used, so a long build keeps its builder's heartbeat going.</summary>
    public TimeSpan BusyCheckInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often an unchanged overflow fork request is written again, so the operator keeps it fresh.</summary>
    public TimeSpan ForkRequestRefresh { get; init; } = TimeSpan.FromSeconds(30);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public ILoggerFactory? LoggerFactory { get; init; }
}
