using System.Net;
using k8s.Models;

namespace BuildPool.Runtime.Client;

/// <summary>
/// 409: the object changed since it was read (stale resourceVersion) or already exists. Controllers
/// treat it as routine: the key is requeued quietly and reconciled again from a fresher cache.
/// </summary>
public sealed class ConflictException : KubernetesApiException
{
    public ConflictException()
        : this(null, "Conflict")
    {
    }

    public ConflictException(string message)
        : this(null, message)
    {
    }

    public ConflictException(string message, Exception innerException)
        : base(HttpStatusCode.Conflict, null, message, innerException)
    {
    }

    public ConflictException(V1Status? status, string message)
        : base(HttpStatusCode.Conflict, status, message)
    {
    }

    public bool IsAlreadyExists => string.Equals(Reason, "AlreadyExists", StringComparison.Ordinal);
}
