namespace BuildPool.Api.V1Alpha1;

/// <summary>What a <see cref="GatewaySignal"/> asks for.</summary>
public enum GatewaySignalKind
{
    /// <summary>Start a stopped builder.</summary>
    Start,

    /// <summary>A build used the volume (keeps its builder running until the idle timeout).</summary>
    Used,

    /// <summary>Overflow forks of a Private volume.</summary>
    Forks,

    /// <summary>An isolated fork for one untrusted build.</summary>
    Isolate,

    /// <summary>A Dedicated volume for a routing key.</summary>
    Demand,
}
