using BuildPool.Operator.Naming;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Children;

/// <summary>Owner references and the labels every child carries.</summary>
public static class Owners
{
    public static V1OwnerReference ControllerReference(IKubernetesObject<V1ObjectMeta> owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return new V1OwnerReference
        {
            ApiVersion = owner.ApiVersion,
            Kind = owner.Kind,
            Name = owner.Metadata.Name,
            Uid = owner.Metadata.Uid,
            Controller = true,
            BlockOwnerDeletion = true,
        };
    }

    public static V1ObjectMeta ChildMeta(IKubernetesObject<V1ObjectMeta> owner, string name, IDictionary<string, string> labels, bool owned = true)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = owner.Metadata.NamespaceProperty,
            Labels = new Dictionary<string, string>(labels, StringComparer.Ordinal),
            OwnerReferences = owned ? [ControllerReference(owner)] : null,
        };
    }

    public static Dictionary<string, string> PoolLabels(string pool, string component) => new(StringComparer.Ordinal)
    {
        [WellKnown.NameLabel] = "buildpool",
        [WellKnown.ManagedByLabel] = WellKnown.ManagedByValue,
        [WellKnown.ComponentLabel] = component,
        [WellKnown.PoolLabel] = pool,
    };

    public static Dictionary<string, string> VolumeLabels(string pool, string volume)
    {
        var labels = PoolLabels(pool, WellKnown.BuilderComponent);
        labels[WellKnown.VolumeLabel] = volume;
        return labels;
    }
}
