using System.Text;
using System.Text.RegularExpressions;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Host.Dev;

/// <summary>
/// What a pod's volumes become on this machine: a claim is a directory under the state folder
/// (so a builder's cache outlives the process and <c>make run</c>), a ConfigMap or Secret is a
/// folder of files written before the container starts (the operator's TLS certificates reach
/// buildkitd this way), an emptyDir a fresh folder. Paths the container was given for its mounts
/// are rewritten to these folders.
/// </summary>
internal sealed class PodFiles
{
    /// <summary>The file next to a claim's data that remembers its reclaim policy once the claim is gone.</summary>
    public const string ReclaimPolicyFile = "reclaim-policy";

    private readonly List<(string MountPath, string LocalPath)> _mounts = [];
    private Regex? _pattern;

    private PodFiles(string directory) => Directory = directory;

    /// <summary>The pod's own folder: its files, its log.</summary>
    public string Directory { get; }

    /// <summary>The claim folders the pod mounts (its cache).</summary>
    public List<string> Claims { get; } = [];

    public static string ClaimRoot(string state, string @namespace, string claim) => Path.Combine(state, "kubelet", "volumes", @namespace, claim);

    /// <summary>
    /// Writes the volumes of <paramref name="pod"/>'s first container; null with a reason in
    /// <paramref name="missing"/> while a ConfigMap, Secret or claim it needs does not exist (the
    /// kubelet's FailedMount: it tries again).
    /// </summary>
    public static async Task<(PodFiles? Files, string? Missing)> MaterialiseAsync(
        string state, string @namespace, string podName, V1PodSpec pod, ResourceClients clients, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(state, "kubelet", "pods", @namespace, podName);
        var volumesDir = Path.Combine(directory, "volumes");
        if (System.IO.Directory.Exists(volumesDir))
        {
            // Secrets and ConfigMaps are written afresh on each start: they may have rotated.
            System.IO.Directory.Delete(volumesDir, recursive: true);
        }

        System.IO.Directory.CreateDirectory(volumesDir);
        var files = new PodFiles(directory);
        var local = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var volume in pod.Volumes ?? [])
        {
            var target = Path.Combine(volumesDir, volume.Name);
            if (volume.PersistentVolumeClaim is { } claimSource)
            {
                var claim = await clients.Claims.GetAsync(@namespace, claimSource.ClaimName, cancellationToken);
                if (claim is null)
                {
                    return (null, $"persistentvolumeclaim \"{claimSource.ClaimName}\" not found");
                }

                var root = ClaimRoot(state, @namespace, claimSource.ClaimName);
                target = Path.Combine(root, "data");
                System.IO.Directory.CreateDirectory(target);
                var policy = claim.Metadata.Labels?.TryGetValue(Operator.Volumes.BuilderChildrenPlanner.ReclaimPolicyLabel, out var p) == true ? p : "Retain";
                await File.WriteAllTextAsync(Path.Combine(root, ReclaimPolicyFile), policy, cancellationToken);
                files.Claims.Add(root);
            }
            else if (volume.ConfigMap is { } configMapSource)
            {
                var map = await clients.ConfigMaps.GetAsync(@namespace, configMapSource.Name, cancellationToken);
                if (map is null && configMapSource.Optional != true)
                {
                    return (null, $"configmap \"{configMapSource.Name}\" not found");
                }

                WriteItems(target, Text(map?.Data), configMapSource.Items);
            }
            else if (volume.Secret is { } secretSource)
            {
                var secret = await clients.Secrets.GetAsync(@namespace, secretSource.SecretName, cancellationToken);
                if (secret is null && secretSource.Optional != true)
                {
                    return (null, $"secret \"{secretSource.SecretName}\" not found");
                }

                WriteItems(target, secret?.Data, secretSource.Items);
            }
            else if (volume.Projected is { } projected)
            {
                foreach (var source in projected.Sources ?? [])
                {
                    if (source.Secret is { } s)
                    {
                        var secret = await clients.Secrets.GetAsync(@namespace, s.Name, cancellationToken);
                        if (secret is null && s.Optional != true)
                        {
                            return (null, $"secret \"{s.Name}\" not found");
                        }

                        WriteItems(target, secret?.Data, s.Items);
                    }
                    else if (source.ConfigMap is { } c)
                    {
                        var map = await clients.ConfigMaps.GetAsync(@namespace, c.Name, cancellationToken);
                        if (map is null && c.Optional != true)
                        {
                            return (null, $"configmap \"{c.Name}\" not found");
                        }

                        WriteItems(target, Text(map?.Data), c.Items);
                    }
                }
            }
            else
            {
                // emptyDir and anything else: an empty folder of the pod's own.
                System.IO.Directory.CreateDirectory(target);
            }

            local[volume.Name] = target;
        }

        foreach (var mount in pod.Containers[0].VolumeMounts ?? [])
        {
            if (local.TryGetValue(mount.Name, out var path))
            {
                files._mounts.Add((mount.MountPath.TrimEnd('/'), string.IsNullOrEmpty(mount.SubPath) ? path : Path.Combine(path, mount.SubPath)));
            }
        }

        return (files, null);
    }

    /// <summary>
    /// <paramref name="text"/> with every path under a mount moved to the mount's local folder
    /// (longest mount first; only whole path components match).
    /// </summary>
    public string Rewrite(string text)
    {
        if (_mounts.Count == 0)
        {
            return text;
        }

        _pattern ??= new Regex(
            "(?<![\\w./-])(" + string.Join('|', _mounts.OrderByDescending(m => m.MountPath.Length).Select(m => Regex.Escape(m.MountPath))) + ")(?=/|$|[^\\w.-])",
            RegexOptions.CultureInvariant);
        return _pattern.Replace(text, m => _mounts.First(x => x.MountPath == m.Groups[1].Value).LocalPath);
    }

    private static Dictionary<string, byte[]>? Text(IDictionary<string, string>? data) =>
        data?.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value), StringComparer.Ordinal);

    private static void WriteItems(string directory, IDictionary<string, byte[]>? data, IList<V1KeyToPath>? items)
    {
        System.IO.Directory.CreateDirectory(directory);
        if (data is null)
        {
            return;
        }

        var selected = items is { Count: > 0 }
            ? items.Where(i => data.ContainsKey(i.Key)).Select(i => (i.Path, data[i.Key]))
            : data.Select(kv => (kv.Key, kv.Value));
        foreach (var (relative, bytes) in selected)
        {
            var path = Path.Combine(directory, relative);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            if (!OperatingSystem.IsWindows())
            {
                // Keys and certificates: readable by this user only, as a Secret volume's default mode allows the container.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }
}
