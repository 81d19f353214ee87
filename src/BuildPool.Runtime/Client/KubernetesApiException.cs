using System.Net;
using k8s.Models;

namespace BuildPool.Runtime.Client;

/// <summary>A non-success answer of the API server, with its <see cref="V1Status"/> when it sent one.</summary>
public class KubernetesApiException : Exception
{
    public KubernetesApiException()
    {
    }

    public KubernetesApiException(string message)
        : base(message)
    {
    }

    public KubernetesApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public KubernetesApiException(HttpStatusCode statusCode, V1Status? status, string message)
        : this(statusCode, status, message, null)
    {
    }

    public KubernetesApiException(HttpStatusCode statusCode, V1Status? status, string message, Exception? innerException)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Status = status;
    }

    public HttpStatusCode StatusCode { get; }

    public V1Status? Status { get; }

    /// <summary>The machine-readable reason, e.g. <c>AlreadyExists</c>, <c>Conflict</c>, <c>Expired</c>.</summary>
    public string? Reason => Status?.Reason;

    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;

    /// <summary>410: the requested resourceVersion is too old; a watcher must list again.</summary>
    public bool IsGone => StatusCode == HttpStatusCode.Gone;

    /// <summary>Builds the most specific exception for a status code.</summary>
    public static KubernetesApiException Create(HttpStatusCode statusCode, V1Status? status, string operation)
    {
        var message = $"{operation} failed: {(int)statusCode} {status?.Reason ?? statusCode.ToString()}: {status?.Message}";
        return statusCode switch
        {
            HttpStatusCode.Conflict => new ConflictException(status, message),
            HttpStatusCode.NotFound => new NotFoundException(status, message),
            _ => new KubernetesApiException(statusCode, status, message),
        };
    }
}
