using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Children;
using BuildPool.Operator.Diagnosis;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Signals;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Hosting;

/// <summary>
/// The informers the operator's controllers share, and a writer per child kind. Children are
/// watched by the managed-by label only, so the caches hold BuildPool's objects and nothing else.
/// </summary>
public sealed class OperatorCaches
{
    public const string PoolIndex = "pool";
    public const string BindingPoolIndex = "pool";

    /// <summary>The operator's name in <c>managedFields</c> on everything it writes, its leader Lease included.</summary>
    public const string FieldManager = "buildpool-operator";

    public OperatorCaches(IKubernetes kubernetes, OperatorOptions options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(kubernetes);
        ArgumentNullException.ThrowIfNull(options);
        var transport = new KubernetesTransport(kubernetes, FieldManager);
        var ns = options.WatchNamespace;
        var managed = $"{WellKnown.ManagedByLabel}={WellKnown.ManagedByValue}";

        Informer<T> Watch<T>(string? selector)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            var informer = new Informer<T>(new KubernetesListWatcher<T>(transport, ns, selector), time, loggerFactory);
            All.Add(informer);
            return informer;
        }

        Pools = Watch<BuilderPool>(null);
        Volumes = Watch<CacheVolume>(null);
        Deployments = Watch<V1Deployment>(managed);
        Services = Watch<V1Service>(managed);
        ServiceAccounts = Watch<V1ServiceAccount>(managed);
        Roles = Watch<V1Role>(managed);
        RoleBindings = Watch<V1RoleBinding>(managed);
        DisruptionBudgets = Watch<V1PodDisruptionBudget>(managed);
        NetworkPolicies = Watch<V1NetworkPolicy>(managed);
        Claims = Watch<V1PersistentVolumeClaim>(managed);
        ConfigMaps = Watch<V1ConfigMap>(managed);
        // Each pool's signal Lease (the gateway's requests); the operator creates them, so they carry its label.
        SignalLeases = Watch<V1Lease>(managed);
        CacheTargets = Watch<RegistryCacheTarget>(null);
        Bindings = Watch<SecretBinding>(null);
        // Only the Secrets the operator made: never every Secret of the cluster (ServiceAccount
        // tokens, other teams' credentials). Secrets people create and pools or bindings name
        // carry no BuildPool label; they are read by name below.
        Secrets = Watch<V1Secret>(managed);

        Metrics = new OperatorMetrics(this);
        Volumes.Cache.AddIndexer(PoolIndex, v => [ObjectKey.Of(v.Metadata.NamespaceProperty, v.Spec.Pool)]);
        Bindings.Cache.AddIndexer(BindingPoolIndex, b => [ObjectKey.Of(b.Metadata.NamespaceProperty, b.Spec.Pool)]);

        PoolClient = new ResourceClient<BuilderPool>(transport);
        SecretClient = new ResourceClient<V1Secret>(transport);
        var referenced = new ReferencedSecretWatcher(SecretClient, SecretsNamed, ReferencesSyncedAsync, options.SecretRefreshInterval, time);
        ReferencedSecrets = new Informer<V1Secret>(referenced, time, loggerFactory, new InformerOptions { Name = "V1Secret (referenced)" });
        All.Add(ReferencedSecrets);
        Pools.AddEventHandler(ReferenceChanges<BuilderPool>(referenced, p => SecretChecks.Referenced(p).Select(r => r.Secret)));
        Bindings.AddEventHandler(ReferenceChanges<SecretBinding>(referenced, b => BuilderCredentialsPlanner.ReferencedSecrets(b.Spec).Select(r => r.Secret)));
        SecretReader = new SecretReader(Secrets.Cache, referenced, SecretClient);
        CacheTargetClient = new ResourceClient<RegistryCacheTarget>(transport);
        SecretBindingClient = new ResourceClient<SecretBinding>(transport);
        StorageClasses = new ResourceClient<V1StorageClass>(transport);
        Events = new ResourceClient<Corev1Event>(transport);
        Starts = new StartReader(new ResourceClient<V1Pod>(transport), Events, loggerFactory.CreateLogger<StartReader>());
        Snapshots = new Snapshots.SnapshotApi(transport, time);
        VolumeWriter = new ChildWriter<CacheVolume>(new ResourceClient<CacheVolume>(transport), Volumes.Cache);
        DeploymentWriter = new ChildWriter<V1Deployment>(new ResourceClient<V1Deployment>(transport), Deployments.Cache);
        ServiceWriter = new ChildWriter<V1Service>(new ResourceClient<V1Service>(transport), Services.Cache);
        ServiceAccountWriter = new ChildWriter<V1ServiceAccount>(new ResourceClient<V1ServiceAccount>(transport), ServiceAccounts.Cache);
        RoleWriter = new ChildWriter<V1Role>(new ResourceClient<V1Role>(transport), Roles.Cache);
        RoleBindingWriter = new ChildWriter<V1RoleBinding>(new ResourceClient<V1RoleBinding>(transport), RoleBindings.Cache);
        DisruptionBudgetWriter = new ChildWriter<V1PodDisruptionBudget>(new ResourceClient<V1PodDisruptionBudget>(transport), DisruptionBudgets.Cache);
        NetworkPolicyWriter = new ChildWriter<V1NetworkPolicy>(new ResourceClient<V1NetworkPolicy>(transport), NetworkPolicies.Cache);
        ClaimWriter = new ChildWriter<V1PersistentVolumeClaim>(new ResourceClient<V1PersistentVolumeClaim>(transport), Claims.Cache);
        ConfigMapWriter = new ChildWriter<V1ConfigMap>(new ResourceClient<V1ConfigMap>(transport), ConfigMaps.Cache);
        SignalWriter = new ChildWriter<V1Lease>(new ResourceClient<V1Lease>(transport), SignalLeases.Cache);
    }

    public List<IInformer> All { get; } = [];

    /// <summary>Pool metrics read from these caches.</summary>
    public OperatorMetrics Metrics { get; }

    public Informer<BuilderPool> Pools { get; }

    public Informer<CacheVolume> Volumes { get; }

    public Informer<V1Deployment> Deployments { get; }

    public Informer<V1Service> Services { get; }

    public Informer<V1ServiceAccount> ServiceAccounts { get; }

    public Informer<V1Role> Roles { get; }

    public Informer<V1RoleBinding> RoleBindings { get; }

    public Informer<V1PodDisruptionBudget> DisruptionBudgets { get; }

    public Informer<V1NetworkPolicy> NetworkPolicies { get; }

    public Informer<V1PersistentVolumeClaim> Claims { get; }

    public Informer<V1ConfigMap> ConfigMaps { get; }

    public Informer<V1Lease> SignalLeases { get; }

    public Informer<RegistryCacheTarget> CacheTargets { get; }

    public Informer<SecretBinding> Bindings { get; }

    /// <summary>The Secrets the operator made (its managed-by label).</summary>
    public Informer<V1Secret> Secrets { get; }

    /// <summary>The user Secrets pools and bindings name, read by name and refreshed every <see cref="OperatorOptions.SecretRefreshInterval"/>.</summary>
    public Informer<V1Secret> ReferencedSecrets { get; }

    /// <summary>Both Secret informers: whoever reacts to a Secret watches both.</summary>
    public IEnumerable<Informer<V1Secret>> SecretInformers => [Secrets, ReferencedSecrets];

    public ResourceClient<BuilderPool> PoolClient { get; }

    /// <summary>Writes Secrets; reads go through <see cref="SecretReader"/>.</summary>
    public ResourceClient<V1Secret> SecretClient { get; }

    /// <summary>The one way the operator reads a Secret.</summary>
    public SecretReader SecretReader { get; }

    public ResourceClient<RegistryCacheTarget> CacheTargetClient { get; }

    public ResourceClient<SecretBinding> SecretBindingClient { get; }

    public ResourceClient<V1StorageClass> StorageClasses { get; }

    public ResourceClient<Corev1Event> Events { get; }

    /// <summary>Reads the pods and claim Events of a Deployment that does not start.</summary>
    public StartReader Starts { get; }

    /// <summary>VolumeSnapshots, whose CRD the cluster may not have.</summary>
    public Snapshots.SnapshotApi Snapshots { get; }

    public ChildWriter<CacheVolume> VolumeWriter { get; }

    public ChildWriter<V1Deployment> DeploymentWriter { get; }

    public ChildWriter<V1Service> ServiceWriter { get; }

    public ChildWriter<V1ServiceAccount> ServiceAccountWriter { get; }

    public ChildWriter<V1Role> RoleWriter { get; }

    public ChildWriter<V1RoleBinding> RoleBindingWriter { get; }

    public ChildWriter<V1PodDisruptionBudget> DisruptionBudgetWriter { get; }

    public ChildWriter<V1NetworkPolicy> NetworkPolicyWriter { get; }

    public ChildWriter<V1PersistentVolumeClaim> ClaimWriter { get; }

    public ChildWriter<V1ConfigMap> ConfigMapWriter { get; }

    /// <summary>Creates the pools' signal Leases and removes the signals the operator has acted on.</summary>
    public ChildWriter<V1Lease> SignalWriter { get; }

    /// <summary>Reads now the Secrets the pool and its bindings name that no read has found yet (see <see cref="SecretReader.LoadAsync"/>).</summary>
    public Task LoadSecretsOfAsync(BuilderPool pool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var ns = pool.Metadata.NamespaceProperty;
        var names = SecretChecks.Referenced(pool).Select(r => r.Secret)
            .Concat(BindingsOf(ns, pool.Metadata.Name).SelectMany(b => BuilderCredentialsPlanner.ReferencedSecrets(b.Spec).Select(r => r.Secret)));
        return SecretReader.LoadAsync(ns, names, cancellationToken);
    }

    /// <summary>The SecretBindings naming the pool, except those being deleted.</summary>
    public IReadOnlyList<SecretBinding> BindingsOf(string? @namespace, string pool) =>
        Bindings.Cache.ByIndex(BindingPoolIndex, ObjectKey.Of(@namespace, pool)).Where(b => b.Metadata.DeletionTimestamp is null).ToList();

    /// <summary>The pool's <c>managed: true</c> RegistryCacheTargets (same namespace), except those being deleted.</summary>
    public IReadOnlyList<RegistryCacheTarget> ManagedRegistriesOf(BuilderPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return (pool.Spec.CacheTargets ?? [])
            .Select(t => CacheTargets.Cache.Get(pool.Metadata.NamespaceProperty, t.Name))
            .OfType<RegistryCacheTarget>()
            .Where(t => t.Spec.Managed && t.Metadata.DeletionTimestamp is null)
            .DistinctBy(t => t.Metadata.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>What the pool's gateway asks for, from its signal Lease.</summary>
    public PoolSignals SignalsOf(string? @namespace, string pool) =>
        PoolSignals.Read(SignalLeases.Cache.Get(@namespace, GatewaySignals.LeaseName(pool)));

    /// <summary>Every CacheVolume that serves the pool, created by it or by hand.</summary>
    public IReadOnlyList<CacheVolume> VolumesOf(string? @namespace, string pool) =>
        Volumes.Cache.ByIndex(PoolIndex, ObjectKey.Of(@namespace, pool));

    /// <summary>Wakes the referenced Secrets' refresh when an object starts or stops naming a Secret (status writes do not).</summary>
    private static ResourceEventHandler<T> ReferenceChanges<T>(ReferencedSecretWatcher watcher, Func<T, IEnumerable<string>> names) => new()
    {
        Added = _ => watcher.ReferencesChanged(),
        Updated = (old, current) =>
        {
            if (!names(old).Order(StringComparer.Ordinal).SequenceEqual(names(current).Order(StringComparer.Ordinal), StringComparer.Ordinal))
            {
                watcher.ReferencesChanged();
            }
        },
        Deleted = _ => watcher.ReferencesChanged(),
    };

    private IEnumerable<(string? Namespace, string Name)> SecretsNamed() =>
        Pools.Cache.List().SelectMany(p => SecretChecks.Referenced(p).Select(r => ((string?)p.Metadata.NamespaceProperty, r.Secret)))
            .Concat(Bindings.Cache.List().SelectMany(b => BuilderCredentialsPlanner.ReferencedSecrets(b.Spec).Select(r => ((string?)b.Metadata.NamespaceProperty, r.Secret))))
            .Where(r => !string.IsNullOrEmpty(r.Secret));

    private async Task ReferencesSyncedAsync(CancellationToken cancellationToken)
    {
        await Pools.WaitForSyncAsync(cancellationToken);
        await Bindings.WaitForSyncAsync(cancellationToken);
    }
}
