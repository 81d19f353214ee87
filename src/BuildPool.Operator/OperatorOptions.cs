namespace BuildPool.Operator;

/// <summary>Settings of one operator process.</summary>
public sealed class OperatorOptions
{
    /// <summary>Namespace to watch; null watches all namespaces.</summary>
    public string? WatchNamespace { get; init; }

    /// <summary>Image of BuildPool itself, run by each pool's gateway Deployment (`buildpool gateway`).</summary>
    public string GatewayImage { get; init; } = "buildpool:latest";

    /// <summary>
    /// <c>--log-format</c> and <c>--log-level</c> the pools' gateways are started with: the
    /// operator's own, so one log pipeline reads both. Empty: the gateway's defaults (text, info).
    /// </summary>
    public IReadOnlyList<string> GatewayLogArgs { get; init; } = [];

    /// <summary>
    /// Names of Secrets (type kubernetes.io/dockerconfigjson) set as imagePullSecrets on every pod
    /// the operator creates: gateways, builders and managed registries. Each must exist in the
    /// namespace of every pool (a pod can only name Secrets of its own namespace).
    /// </summary>
    public IReadOnlyList<string> ImagePullSecrets { get; init; } = [];

    /// <summary>Gateway replicas per pool: more than one so a gateway rollout never drops the endpoint.</summary>
    public int GatewayReplicas { get; init; } = 2;

    /// <summary>Namespace the operator runs in; its pods may reach builders for readiness, drain and GC.</summary>
    public string OperatorNamespace { get; init; } = "buildpool-system";

    /// <summary>Reconciles per controller running at once (on different objects).</summary>
    public int Workers { get; init; } = 2;

    /// <summary>How often every object is reconciled again even without events.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a Dedicated key's demand stays without a build asking again (the gateway repeats it
    /// every 10 s while a build waits). An older demand is dropped with an Event.
    /// </summary>
    public TimeSpan DemandTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How often the user Secrets that pools and bindings name are read again: the operator does
    /// not watch them (that would mean holding every Secret of the namespace), so a rotated Secret
    /// rolls the builders within this long. A pool or binding that starts naming a Secret has it
    /// read at once.
    /// </summary>
    public TimeSpan SecretRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a ready builder is probed and its disk usage read.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest a builder may stay Draining for running builds before it is stopped anyway.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often a draining builder is asked again for its running builds.</summary>
    public TimeSpan DrainPollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often each RegistryCacheTarget's registry is checked and its retention applied; failures retry sooner (at most 5 min).</summary>
    public TimeSpan RegistryGcInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Lifetime of a pool CA (spec.endpoint.tls.mode Managed or FromSecret); it is replaced after two thirds of it.</summary>
    public TimeSpan CaValidity { get; init; } = TimeSpan.FromDays(3650);

    /// <summary>Lifetime of the gateway and builder certificates; they are renewed after two thirds of it.</summary>
    public TimeSpan ServerCertificateValidity { get; init; } = TimeSpan.FromDays(90);
}
