using BuildPool.Runtime.Informers;
using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Tests.Support;

internal sealed class RecordingHandler<T> : IResourceEventHandler<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _gate = new();
    private readonly List<string> _events = [];

    /// <summary>Events as <c>add a</c>, <c>update a</c>, <c>delete a</c>.</summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public void OnAdd(T obj) => Record("add", obj);

    public void OnUpdate(T oldObj, T newObj) => Record("update", newObj);

    public void OnDelete(T obj) => Record("delete", obj);

    private void Record(string what, T obj)
    {
        lock (_gate)
        {
            _events.Add($"{what} {obj.Metadata.Name}");
        }
    }
}
