using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Host.Dev;

/// <summary>
/// The volume provisioner's half of <c>buildpool dev</c>: a claim that is gone takes its folder
/// with it when its reclaim policy (remembered beside the data) is Delete; Retain keeps the cache
/// on disk, as a released PersistentVolume keeps its data.
/// </summary>
internal static class ClaimReclaimer
{
    public static async Task ReclaimAsync(string stateDirectory, ResourceClient<V1PersistentVolumeClaim> claimsClient, IEnumerable<LocalPod> pods, ILogger logger, CancellationToken cancellationToken)
    {
        var root = Path.Combine(stateDirectory, "kubelet", "volumes");
        if (!Directory.Exists(root))
        {
            return;
        }

        var claims = (await claimsClient.ListAsync(cancellationToken: cancellationToken))
            .Select(c => Key(c.Metadata.NamespaceProperty, c.Metadata.Name))
            .ToHashSet(StringComparer.Ordinal);
        var inUse = pods.Where(p => p.Files is not null).SelectMany(p => p.Files!.Claims).ToHashSet(StringComparer.Ordinal);
        foreach (var nsDir in Directory.EnumerateDirectories(root))
        {
            foreach (var claimDir in Directory.EnumerateDirectories(nsDir))
            {
                var ns = Path.GetFileName(nsDir);
                var claim = Path.GetFileName(claimDir);
                var policyFile = Path.Combine(claimDir, PodFiles.ReclaimPolicyFile);
                if (claims.Contains(Key(ns, claim)) || inUse.Contains(claimDir) || !File.Exists(policyFile)
                    || (await File.ReadAllTextAsync(policyFile, cancellationToken)).Trim() != nameof(ReclaimPolicy.Delete))
                {
                    continue;
                }

                Directory.Delete(claimDir, recursive: true);
                LocalKubeletLog.Reclaimed(logger, ns, claim, claimDir);
            }
        }
    }

    private static string Key(string? @namespace, string name) => $"{@namespace}/{name}";
}
