using k8s.Models;

namespace BuildPool.Operator.Children;

/// <summary>The operator's <see cref="OperatorOptions.ImagePullSecrets"/> as a pod's imagePullSecrets.</summary>
public static class PullSecrets
{
    /// <summary>The references, or null when there are none (so pod specs, and their hashes, stay as they were).</summary>
    public static IList<V1LocalObjectReference>? For(OperatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ImagePullSecrets.Count == 0 ? null : [.. options.ImagePullSecrets.Select(name => new V1LocalObjectReference { Name = name })];
    }
}
