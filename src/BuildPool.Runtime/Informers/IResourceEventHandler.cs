namespace BuildPool.Runtime.Informers;

/// <summary>
/// Notified by an <see cref="Informer{T}"/> after its cache changed. Called on the informer's loop,
/// one event at a time, so handlers must be quick (enqueue a key, nothing more).
/// </summary>
public interface IResourceEventHandler<in T>
{
    void OnAdd(T obj);

    void OnUpdate(T oldObj, T newObj);

    /// <summary>Receives the last state the cache knew.</summary>
    void OnDelete(T obj);
}
