using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Informers;

/// <summary>
/// One event of a watch. <see cref="Object"/> is set for Added/Modified/Deleted and for Bookmark
/// (where only <c>metadata.resourceVersion</c> is meaningful); <see cref="Status"/> is set for Error.
/// </summary>
public sealed record WatchEvent<T>(WatchEventType Type, T? Object, V1Status? Status = null)
    where T : class;
