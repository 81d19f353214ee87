using System.Text.Json.Nodes;
using BuildPool.LocalApi.Discovery;

namespace BuildPool.LocalApi.Http;

/// <summary>Builds <c>v1.Status</c> bodies with the messages and reasons the real API server uses.</summary>
internal static class Status
{
    public static JsonObject Failure(int code, string reason, string message, JsonObject? details = null)
    {
        var s = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null)
        {
            s["details"] = details;
        }

        s["code"] = code;
        return s;
    }

    public static JsonObject Success(ResourceType rt, string name, string? uid)
    {
        var details = Details(name, rt.Group, rt.Plural);
        if (uid is not null)
        {
            details["uid"] = uid;
        }

        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        };
    }

    public static JsonObject Details(string? name, string group, string kind)
    {
        var d = new JsonObject();
        if (!string.IsNullOrEmpty(name))
        {
            d["name"] = name;
        }

        if (group.Length > 0)
        {
            d["group"] = group;
        }

        d["kind"] = kind;
        return d;
    }

    public static ApiException NotFound(ResourceType rt, string name) =>
        NotFound(rt.Group, rt.Plural, name);

    public static ApiException NotFound(string group, string plural, string name)
    {
        var qualified = group.Length == 0 ? plural : $"{plural}.{group}";
        return new(404, Failure(404, "NotFound", $"{qualified} \"{name}\" not found", Details(name, group, plural)));
    }

    public static ApiException NotFoundPath(string path) =>
        new(404, Failure(404, "NotFound", "the server could not find the requested resource", Details(null, "", "")
            .Also(d => d["causes"] = new JsonArray(new JsonObject { ["reason"] = "UnexpectedServerResponse", ["message"] = $"404 page not found: {path}" }))));

    public static ApiException AlreadyExists(ResourceType rt, string name) =>
        new(409, Failure(409, "AlreadyExists", $"{rt.QualifiedResource} \"{name}\" already exists", Details(name, rt.Group, rt.Plural)));

    public static ApiException Conflict(ResourceType rt, string name, string why = "the object has been modified; please apply your changes to the latest version and try again") =>
        new(409, Failure(409, "Conflict", $"Operation cannot be fulfilled on {rt.QualifiedResource} \"{name}\": {why}", Details(name, rt.Group, rt.Plural)));

    public static ApiException BadRequest(string message) => new(400, Failure(400, "BadRequest", message));

    public static ApiException MethodNotAllowed() =>
        new(405, Failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"));

    public static ApiException UnsupportedMediaType(string contentType) =>
        new(415, Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got {contentType}"));

    public static ApiException Internal(string message) =>
        new(500, Failure(500, "InternalError", $"Internal error occurred: {message}", new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = message }) }));

    public static ApiException Forbidden(ResourceType rt, string name, string message) =>
        new(403, Failure(403, "Forbidden", $"{rt.QualifiedResource} \"{name}\" is forbidden: {message}", Details(name, rt.Group, rt.Plural)));

    /// <summary>The 410 the watch cache returns when a client resumes from a compacted revision.</summary>
    public static JsonObject Expired(long requested, long oldest) =>
        Failure(410, "Expired", $"too old resource version: {requested} ({oldest})");

    public static ApiException Invalid(ResourceType rt, string name, IReadOnlyList<FieldError> errors)
    {
        var causes = new JsonArray();
        foreach (var e in errors)
        {
            causes.Add(new JsonObject { ["reason"] = e.Reason, ["message"] = e.Detail, ["field"] = e.Field });
        }

        var details = Details(name, rt.Group, rt.Kind);
        details["causes"] = causes;
        var list = errors.Count == 1 ? errors[0].ToString() : "[" + string.Join(", ", errors) + "]";
        return new(422, Failure(422, "Invalid", $"{rt.QualifiedKind} \"{name}\" is invalid: {list}", details));
    }

    private static JsonObject Also(this JsonObject o, Action<JsonObject> a)
    {
        a(o);
        return o;
    }
}
