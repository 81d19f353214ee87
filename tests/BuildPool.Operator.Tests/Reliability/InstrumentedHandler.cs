using System.Text.Json.Nodes;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// The bottom of one operator instance's HTTP pipeline: logs each request under the instance's
/// name, kills the instance on cue (<see cref="KillSwitch"/>), and lets the data-safety checker
/// look at the cluster just before a claim is deleted and just after a Deployment is written —
/// the only moments at which those invariants can change.
/// </summary>
internal sealed class InstrumentedHandler(string instance, ApiLog log, KillSwitch kill, DataSafetyChecker? safety) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (kill.IsDead)
        {
            throw kill.Dead();
        }

        var (verb, resource, ns, name) = await DescribeAsync(request, cancellationToken);
        var started = DateTimeOffset.UtcNow;
        var isWrite = verb is "create" or "update" or "patch" or "delete";
        var fate = isWrite ? kill.OnWrite($"{verb} {resource} {name}") : KillSwitch.WriteFate.Sent;
        if (fate == KillSwitch.WriteFate.Lost)
        {
            log.Add(new ApiCall(instance, verb, resource, ns, name, null, started, DateTimeOffset.UtcNow));
            throw kill.Dead();
        }

        if (safety is not null && verb == "delete" && resource == "persistentvolumeclaims" && ns is not null && name is not null)
        {
            await safety.BeforeClaimDeleteAsync(instance, ns, name);
        }

        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch
        {
            log.Add(new ApiCall(instance, verb, resource, ns, name, null, started, DateTimeOffset.UtcNow));
            throw;
        }

        log.Add(new ApiCall(instance, verb, resource, ns, name, (int)response.StatusCode, started, DateTimeOffset.UtcNow));
        if (fate == KillSwitch.WriteFate.AppliedThenDie)
        {
            response.Dispose();
            throw kill.Dead();
        }

        if (safety is not null && isWrite && resource == "deployments" && response.IsSuccessStatusCode && ns is not null)
        {
            await safety.AfterDeploymentWriteAsync(instance, ns);
        }

        return response;
    }

    /// <summary>Verb, resource (with subresource, like the API server's counters), namespace and name of a request.</summary>
    private static async Task<(string Verb, string Resource, string? Namespace, string? Name)> DescribeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        var segments = uri.AbsolutePath.Trim('/').Split('/');
        // /api/v1/... or /apis/<group>/<version>/...
        var rest = segments.Length > 0 && segments[0] == "api" ? segments.Skip(2).ToArray() : segments.Skip(3).ToArray();
        string? ns = null;
        if (rest.Length >= 2 && rest[0] == "namespaces")
        {
            ns = rest[1];
            rest = rest[2..];
        }

        var resource = rest.Length > 0 ? rest[0] : "";
        var name = rest.Length > 1 ? rest[1] : null;
        if (rest.Length > 2)
        {
            resource = $"{resource}/{rest[2]}";
        }

        var method = request.Method.Method;
        var verb = method switch
        {
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => name is null ? "deletecollection" : "delete",
            _ when name is not null => "get",
            _ when uri.Query.Contains("watch=true", StringComparison.Ordinal) || uri.Query.Contains("watch=1", StringComparison.Ordinal) => "watch",
            _ => "list",
        };

        if (verb == "create" && request.Content is not null)
        {
            // A create names its object in the body.
            var body = await request.Content.ReadAsStringAsync(cancellationToken);
            try
            {
                name = JsonNode.Parse(body)?["metadata"]?["name"]?.GetValue<string>();
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }

        return (verb, resource, ns, name);
    }
}
