using System.Net;
using k8s.Models;

namespace BuildPool.Runtime.Client;

/// <summary>404 from an operation that needs the object to exist (replace, patch, status).</summary>
public sealed class NotFoundException : KubernetesApiException
{
    public NotFoundException()
        : this(null, "NotFound")
    {
    }

    public NotFoundException(string message)
        : this(null, message)
    {
    }

    public NotFoundException(string message, Exception innerException)
        : base(HttpStatusCode.NotFound, null, message, innerException)
    {
    }

    public NotFoundException(V1Status? status, string message)
        : base(HttpStatusCode.NotFound, status, message)
    {
    }
}
