using System.Text.Json.Nodes;

namespace BuildPool.LocalApi.Http;

/// <summary>A failure that becomes a <c>v1.Status</c> response body.</summary>
internal sealed class ApiException(int code, JsonObject status) : Exception(status["message"]?.GetValue<string>())
{
    public int Code { get; } = code;

    public JsonObject Status { get; } = status;
}
