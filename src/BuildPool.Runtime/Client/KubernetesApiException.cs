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

    /// <summary>The request that got this answer, <c>VERB /path?query</c>; null when not known.</summary>
    public string? Operation { get; init; }

    /// <summary>The request's path without its query; null when not known.</summary>
    public string? Path => Operation?.Split(' ', 2) is [_, var target] ? target.Split('?', 2)[0] : null;

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
            HttpStatusCode.Conflict => new ConflictException(status, message) { Operation = operation },
            HttpStatusCode.NotFound => new NotFoundException(status, message) { Operation = operation },
            _ => new KubernetesApiException(statusCode, status, message) { Operation = operation },
        };
    }
}
