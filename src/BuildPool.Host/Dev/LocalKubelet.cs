using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Host.Dev;

/// <summary>
/// The kubelet (and the endpoints controller and volume provisioner) of <c>buildpool dev</c>:
/// each builder Deployment with one replica runs as a <c>buildkitd</c> process, each pool's
/// gateway Deployment as the gateway inside this process on its own loopback port. It reads and
/// writes only what a kubelet would (Pods, their status, Deployment status, Endpoints), so the
/// operator sees pods as it would in a cluster and cannot tell it runs on one machine.
/// </summary>
public sealed class LocalKubelet : IAsyncDisposable
{
    /// <summary>The <c>spec.nodeName</c> of every pod this kubelet runs.</summary>
    public const string NodeName = "local";

    private readonly ResourceClients _clients;
    private readonly LocalKubeletOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, LocalPod> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _gatewayPorts = new(StringComparer.Ordinal);
    private readonly EndpointsController _endpoints;
    private readonly HashSet<string> _announced = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private LocalKubelet(KubernetesTransport transport, LocalKubeletOptions options, ILogger logger)
    {
        _clients = new ResourceClients(transport);
        _endpoints = new EndpointsController(_clients.Services, _clients.Endpoints, Services);
        _options = options;
        _logger = logger;
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Service names resolved to the loopback ports of ready local pods.</summary>
    public ServiceDirectory Services { get; } = new();

    public static LocalKubelet Start(KubernetesTransport transport, LocalKubeletOptions options, ILogger<LocalKubelet> logger)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(options);
        return new LocalKubelet(transport, options, logger);
    }

    /// <summary>The folder that stands for a claim's volume.</summary>
    public static string ClaimDirectory(string stateDirectory, string @namespace, string claim) =>
        Path.Combine(PodFiles.ClaimRoot(stateDirectory, @namespace, claim), "data");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        await Task.WhenAll(_pods.Values.Select(p => StopAsync(p, delete: false)));
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var cleaned = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!cleaned)
                {
                    // Pods of an earlier run stand for processes that are gone.
                    foreach (var stale in (await _clients.Pods.ListAsync(cancellationToken: cancellationToken)).Where(p => p.Spec?.NodeName == NodeName))
                    {
                        await _clients.Pods.DeleteAsync(stale.Metadata.NamespaceProperty, stale.Metadata.Name, cancellationToken);
                    }

                    cleaned = true;
                }

                await SyncAsync(cancellationToken);
                // A poll period, not a wait for something: the local API is in this process.
                await Task.Delay(_options.SyncPeriod, _options.TimeProvider, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // A kubelet keeps going: the next round starts from what the API says then.
                LocalKubeletLog.RoundFailed(_logger, ex);
                await Task.Delay(_options.SyncPeriod, _options.TimeProvider, cancellationToken).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        AssignGatewayPorts(await _clients.Pools.ListAsync(cancellationToken: cancellationToken));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var deployment in await _clients.Deployments.ListAsync(cancellationToken: cancellationToken))
        {
            if (KindOf(deployment) is not { } kind)
            {
                continue;
            }

            var key = Key(deployment.Metadata.NamespaceProperty, deployment.Metadata.Name);
            seen.Add(key);
            await SyncDeploymentAsync(key, deployment, kind, cancellationToken);
        }

        foreach (var gone in _pods.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            await StopAsync(_pods[gone], delete: true);
            _pods.Remove(gone);
        }

        await _endpoints.SyncAsync(_pods.Values, cancellationToken);
        await ClaimReclaimer.ReclaimAsync(_options.StateDirectory, _clients.Claims, _pods.Values, _logger, cancellationToken);
    }

    private async Task SyncDeploymentAsync(string key, V1Deployment deployment, ContainerKind kind, CancellationToken cancellationToken)
    {
        var ns = deployment.Metadata.NamespaceProperty;
        var name = deployment.Metadata.Name;
        var desired = (deployment.Spec.Replicas ?? 1) > 0;
        var hash = TemplateHash(deployment.Spec.Template);
        _pods.TryGetValue(key, out var pod);
        if (pod is not null && (!desired || pod.TemplateHash != hash))
        {
            // Scale to zero, or a new template: the old pod goes first (Recreate, never two daemons on one root).
            await StopAsync(pod, delete: true);
            _pods.Remove(key);
            pod = null;
        }

        if (desired && pod is null)
        {
            pod = new LocalPod(ns, name, $"{name}-{hash}", hash)
            {
                Backoff = _options.RestartBackoff,
                Labels = deployment.Spec.Template.Metadata?.Labels ?? new Dictionary<string, string>(),
            };
            _pods[key] = pod;
        }

        if (pod is not null)
        {
            await RunPodAsync(pod, deployment, kind, cancellationToken);
            await WritePodAsync(pod, deployment, cancellationToken);
        }

        await WriteDeploymentStatusAsync(deployment, pod, cancellationToken);
    }

    private async Task RunPodAsync(LocalPod pod, V1Deployment deployment, ContainerKind kind, CancellationToken cancellationToken)
    {
        var now = _options.TimeProvider.GetUtcNow();
        if (pod.Container is { Exited.IsCompleted: true } exited)
        {
            var code = await exited.Exited;
            if (pod.StartedAt is { } started && now - started >= _options.BackoffReset)
            {
                pod.Backoff = _options.RestartBackoff;
            }

            pod.LastTerminated = new V1ContainerStateTerminated
            {
                ExitCode = code,
                Reason = code == 0 ? "Completed" : "Error",
                Message = exited.Tail(),
                StartedAt = pod.StartedAt?.UtcDateTime,
                FinishedAt = now.UtcDateTime,
            };
            pod.Container = null;
            pod.Ready = false;
            pod.RestartCount++;
            pod.RestartAt = now + pod.Backoff;
            LocalKubeletLog.Crashed(_logger, pod.Namespace, pod.Name, code, pod.Backoff, pod.LastTerminated.Message);
            pod.Backoff = TimeSpan.FromTicks(Math.Min(pod.Backoff.Ticks * 2, _options.MaxRestartBackoff.Ticks));
        }

        if (pod.Container is null && (pod.RestartAt is null || now >= pod.RestartAt))
        {
            try
            {
                pod.Container = kind == ContainerKind.Buildkitd
                    ? await StartBuildkitdAsync(pod, deployment, cancellationToken)
                    : await StartGatewayAsync(pod, deployment, cancellationToken);
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
            {
                pod.Waiting = ex.Message;
            }

            if (pod.Container is not null)
            {
                pod.StartedAt = now;
                pod.RestartAt = null;
                pod.Waiting = null;
                LocalKubeletLog.Started(_logger, pod.Namespace, pod.Name, kind == ContainerKind.Buildkitd ? _options.BuildkitdPath : "gateway", pod.Port);
            }
            else if (pod.Waiting is { } reason)
            {
                LocalKubeletLog.CannotStart(_logger, pod.Namespace, pod.Name, reason);
            }
        }

        pod.Ready = pod.Container is { } running && await running.IsReadyAsync(cancellationToken);
        if (kind == ContainerKind.Gateway && pod.Container is not null && !_announced.Contains(pod.Deployment) && await LocalContainer.AcceptsAsync(pod.Port, cancellationToken))
        {
            // Printed once clients can connect (builds wait there for a builder that is still starting).
            AnnounceGateway(pod, deployment);
        }
    }

    private async Task<LocalContainer?> StartBuildkitdAsync(LocalPod pod, V1Deployment deployment, CancellationToken cancellationToken)
    {
        var spec = deployment.Spec.Template.Spec;
        var container = spec.Containers[0];
        var (files, missing) = await PodFiles.MaterialiseAsync(_options.StateDirectory, pod.Namespace, pod.Name, spec, _clients, cancellationToken);
        if (files is null)
        {
            pod.Waiting = missing;
            return null;
        }

        if (pod.Port == 0)
        {
            pod.Port = FreePort();
        }

        NamePorts(pod, container, pod.Port);
        var args = BuildkitdArguments.Rewrite(container.Args ?? [], files, pod.Port, Environment.IsPrivilegedProcess);
        var env = await EnvironmentAsync(pod.Namespace, container, cancellationToken);
        pod.Files = files;
        var executable = _options.BuildkitdPath;
        if (!Environment.IsPrivilegedProcess && LocalBuilders.OnPath("rootlesskit") is { } rootlesskit)
        {
            // As another user, buildkitd runs rootless as in the rootless image: inside RootlessKit's user namespace.
            args.Insert(0, executable);
            executable = rootlesskit;
        }

        return BuildkitdContainer.Start(executable, args, env, files.Directory, pod.Port);
    }

    private async Task<LocalContainer?> StartGatewayAsync(LocalPod pod, V1Deployment deployment, CancellationToken cancellationToken)
    {
        var spec = deployment.Spec.Template.Spec;
        var container = spec.Containers[0];
        var pool = Key(pod.Namespace, deployment.Metadata.Labels?.TryGetValue(Operator.Naming.WellKnown.PoolLabel, out var p) == true ? p : deployment.Metadata.Name);
        if (!_gatewayPorts.TryGetValue(pool, out var port))
        {
            pod.Waiting = $"no port for pool {pool} yet";
            return null;
        }

        var (files, missing) = await PodFiles.MaterialiseAsync(_options.StateDirectory, pod.Namespace, pod.Name, spec, _clients, cancellationToken);
        if (files is null)
        {
            pod.Waiting = missing;
            return null;
        }

        pod.Port = port;
        var metrics = FreePort();
        NamePorts(pod, container, port);
        foreach (var declared in container.Ports ?? [])
        {
            if (declared.Name == "metrics")
            {
                pod.NamedPorts["metrics"] = metrics;
                pod.NamedPorts[declared.ContainerPort.ToString(CultureInfo.InvariantCulture)] = metrics;
            }
        }

        var args = new List<string>();
        var given = container.Args ?? [];
        for (var i = 0; i < given.Count; i++)
        {
            // One replica per pool on this machine: its own loopback port for clients and for metrics.
            if (given[i] is "--listen" or "--metrics-address" && i + 1 < given.Count)
            {
                args.Add(given[i]);
                args.Add($"127.0.0.1:{(given[i] == "--listen" ? port : metrics).ToString(CultureInfo.InvariantCulture)}");
                i++;
                continue;
            }

            args.Add(files.Rewrite(given[i]));
        }

        // In a cluster the gateway finds the API through its service account; here through the local kubeconfig.
        args.Add("--kubeconfig");
        args.Add(_options.Kubeconfig);
        pod.Files = files;
        return GatewayContainer.Start(args, Services.Resolve, metrics);
    }

    private void AnnounceGateway(LocalPod pod, V1Deployment deployment)
    {
        _announced.Add(pod.Deployment);
        var pool = deployment.Metadata.Labels?.TryGetValue(Operator.Naming.WellKnown.PoolLabel, out var p) == true ? p : deployment.Metadata.Name;
        var tls = (deployment.Spec.Template.Spec.Containers[0].Args ?? []).Contains("--tls-cert");
        _options.Output.WriteLine(tls
            ? $"pool {pool}: gateway on 127.0.0.1:{pod.Port} with TLS; its client command is in: kubectl get builderpool {pool} -o jsonpath='{{.status.buildxCommand}}' (address tcp://127.0.0.1:{pod.Port})"
            : $"pool {pool}: docker buildx create --name {pool} --driver remote tcp://127.0.0.1:{pod.Port}");
    }

    private async Task StopAsync(LocalPod pod, bool delete)
    {
        if (pod.Container is { } container)
        {
            await container.StopAsync(_options.StopTimeout);
            pod.Container = null;
            LocalKubeletLog.Stopped(_logger, pod.Namespace, pod.Name);
        }

        if (delete && pod.Created)
        {
            await _clients.Pods.DeleteAsync(pod.Namespace, pod.Name, CancellationToken.None);
        }
    }

    private async Task WritePodAsync(LocalPod pod, V1Deployment deployment, CancellationToken cancellationToken)
    {
        var template = deployment.Spec.Template;
        if (!pod.Created)
        {
            var spec = KubernetesJson.Deserialize<V1PodSpec>(KubernetesJson.Serialize(template.Spec));
            spec.NodeName = NodeName;
            var created = new V1Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new V1ObjectMeta
                {
                    Name = pod.Name,
                    NamespaceProperty = pod.Namespace,
                    Labels = template.Metadata?.Labels,
                    Annotations = template.Metadata?.Annotations,
                    OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = deployment.Metadata.Name, Uid = deployment.Metadata.Uid, Controller = true, BlockOwnerDeletion = true }],
                },
                Spec = spec,
            };
            try
            {
                await _clients.Pods.CreateAsync(created, cancellationToken);
            }
            catch (ConflictException)
            {
                // Left from a round whose status write failed: the status below brings it up to date.
            }

            pod.Created = true;
        }

        var status = PodStatus(pod, template.Spec.Containers[0]);
        var json = KubernetesJson.Serialize(status);
        if (json == pod.WrittenStatus)
        {
            return;
        }

        try
        {
            await _clients.Pods.PatchStatusAsync(pod.Namespace, pod.Name, new { status }, cancellationToken);
        }
        catch (NotFoundException)
        {
            // Deleted since this round began (its Deployment went, and the pod with it): the next
            // round creates it again for a Deployment that is still there, or stops its process.
            pod.Created = false;
            pod.WrittenStatus = null;
            return;
        }

        pod.WrittenStatus = json;
    }

    private V1PodStatus PodStatus(LocalPod pod, V1Container container)
    {
        V1ContainerState state = pod.Container is not null
            ? new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = pod.StartedAt?.UtcDateTime } }
            : pod.RestartAt is not null
                ? new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff", Message = $"back-off restarting failed container {container.Name} in pod {pod.Name}" } }
                : new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating", Message = pod.Waiting } };
        var ready = pod.Ready ? "True" : "False";
        return new V1PodStatus
        {
            Phase = pod.Container is not null || pod.RestartCount > 0 ? "Running" : "Pending",
            HostIP = "127.0.0.1",
            PodIP = "127.0.0.1",
            StartTime = pod.StartedAt?.UtcDateTime,
            Conditions =
            [
                new V1PodCondition { Type = "Ready", Status = ready },
                new V1PodCondition { Type = "ContainersReady", Status = ready },
            ],
            ContainerStatuses =
            [
                new V1ContainerStatus
                {
                    Name = container.Name,
                    Image = container.Image,
                    ImageID = string.Empty,
                    Ready = pod.Ready,
                    Started = pod.Container is not null,
                    RestartCount = pod.RestartCount,
                    State = state,
                    LastState = pod.LastTerminated is { } last ? new V1ContainerState { Terminated = last } : null,
                },
            ],
        };
    }

    private async Task WriteDeploymentStatusAsync(V1Deployment deployment, LocalPod? pod, CancellationToken cancellationToken)
    {
        var replicas = pod is null ? 0 : 1;
        var ready = pod?.Ready == true ? 1 : 0;
        var current = deployment.Status;
        if (current?.Replicas == replicas && (current.ReadyReplicas ?? 0) == ready && (current.AvailableReplicas ?? 0) == ready
            && current.ObservedGeneration == deployment.Metadata.Generation)
        {
            return;
        }

        var status = new V1DeploymentStatus
        {
            Replicas = replicas,
            ReadyReplicas = ready,
            AvailableReplicas = ready,
            UpdatedReplicas = replicas,
            UnavailableReplicas = replicas - ready,
            ObservedGeneration = deployment.Metadata.Generation,
        };
        try
        {
            await _clients.Deployments.PatchStatusAsync(deployment.Metadata.NamespaceProperty, deployment.Metadata.Name, new { status }, cancellationToken);
        }
        catch (NotFoundException)
        {
            // Deleted since this round read it: nothing to report on.
        }
    }


    private void AssignGatewayPorts(IReadOnlyList<BuilderPool> pools)
    {
        // The first port goes to a pool a plain tcp:// client can use at once (no TLS, a builder
        // kept warm), so the first printed buildx command is the one to try first.
        foreach (var pool in pools
            .OrderBy(p => p.Spec.Endpoint.Tls.Mode != TlsMode.Disabled)
            .ThenBy(p => p.Spec.Scaling.WarmBuilders == 0)
            .ThenBy(p => p.Metadata.NamespaceProperty, StringComparer.Ordinal)
            .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal))
        {
            var key = Key(pool.Metadata.NamespaceProperty, pool.Metadata.Name);
            if (!_gatewayPorts.ContainsKey(key))
            {
                _gatewayPorts[key] = _options.FirstGatewayPort == 0 ? FreePort() : _options.FirstGatewayPort + _gatewayPorts.Count;
            }
        }
    }

    private async Task<Dictionary<string, string>> EnvironmentAsync(string @namespace, V1Container container, CancellationToken cancellationToken)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            if (source.SecretRef is { } secretRef && await _clients.Secrets.GetAsync(@namespace, secretRef.Name, cancellationToken) is { Data: { } data })
            {
                foreach (var (key, value) in data)
                {
                    env[(source.Prefix ?? string.Empty) + key] = Encoding.UTF8.GetString(value);
                }
            }
            else if (source.ConfigMapRef is { } mapRef && await _clients.ConfigMaps.GetAsync(@namespace, mapRef.Name, cancellationToken) is { Data: { } text })
            {
                foreach (var (key, value) in text)
                {
                    env[(source.Prefix ?? string.Empty) + key] = value;
                }
            }
        }

        foreach (var variable in container.Env ?? [])
        {
            if (variable.Value is not null)
            {
                env[variable.Name] = variable.Value;
            }
        }

        return env;
    }

    private static void NamePorts(LocalPod pod, V1Container container, int port)
    {
        foreach (var declared in container.Ports ?? [])
        {
            if (declared.Name is { Length: > 0 } name)
            {
                pod.NamedPorts[name] = port;
            }

            pod.NamedPorts[declared.ContainerPort.ToString(CultureInfo.InvariantCulture)] = port;
        }
    }

    private static ContainerKind? KindOf(V1Deployment deployment)
    {
        var containers = deployment.Spec?.Template?.Spec?.Containers;
        if (containers is not { Count: > 0 })
        {
            return null;
        }

        if (containers[0].Name == "buildkitd")
        {
            return ContainerKind.Buildkitd;
        }

        return containers[0].Args is { Count: > 0 } args && args[0] == "gateway" ? ContainerKind.Gateway : null;
    }

    private static string TemplateHash(V1PodTemplateSpec template) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(template))).AsSpan(0, 5));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Key(string? @namespace, string name) => $"{@namespace}/{name}";

    private enum ContainerKind
    {
        Buildkitd,
        Gateway,
    }
}
