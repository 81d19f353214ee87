using k8s;

namespace BuildPool.Runtime.Informers;

public static class ObjectCopy
{
    /// <summary>
    /// A deep copy through the Kubernetes JSON serializer, so that it has exactly the fields the
    /// API would see. Use it before modifying an object read from a cache.
    /// </summary>
    public static T DeepCopy<T>(T obj)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(obj);
        return KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(obj));
    }
}
