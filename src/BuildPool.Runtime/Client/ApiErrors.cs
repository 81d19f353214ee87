using System.Net;
using k8s.Autorest;

namespace BuildPool.Runtime.Client;

/// <summary>Classifies errors from our client and from the generated <c>IKubernetes</c> client alike.</summary>
public static class ApiErrors
{
    public static bool IsConflict(Exception exception) => StatusOf(exception) == HttpStatusCode.Conflict;

    public static bool IsNotFound(Exception exception) => StatusOf(exception) == HttpStatusCode.NotFound;

    public static bool IsGone(Exception exception) => StatusOf(exception) == HttpStatusCode.Gone;

    private static HttpStatusCode? StatusOf(Exception exception) => exception switch
    {
        KubernetesApiException api when api.StatusCode != 0 => api.StatusCode,
        HttpOperationException http => http.Response?.StatusCode,
        _ => null,
    };
}
