using System.Text.Json.Nodes;

namespace BuildPool.Api.Schema;

/// <summary>
/// The schema of metav1.Condition as Kubernetes publishes it. V1Condition is reflected
/// poorly (a DateTime with a custom converter, no enum on status), and kstatus-aware tools
/// expect exactly this shape.
/// </summary>
internal static class ConditionSchema
{
    internal static JsonObject Create() => new()
    {
        ["type"] = "object",
        ["description"] = "Condition contains details for one aspect of the current state of this API Resource.",
        ["required"] = new JsonArray("lastTransitionTime", "message", "reason", "status", "type"),
        ["properties"] = new JsonObject
        {
            ["lastTransitionTime"] = new JsonObject
            {
                ["type"] = "string",
                ["format"] = "date-time",
                ["description"] = "lastTransitionTime is the last time the condition transitioned from one status to another. This should be when the underlying condition changed. If that is not known, then using the time when the API field changed is acceptable.",
            },
            ["message"] = new JsonObject
            {
                ["type"] = "string",
                ["maxLength"] = 32768,
                ["description"] = "message is a human readable message indicating details about the transition. This may be an empty string.",
            },
            ["observedGeneration"] = new JsonObject
            {
                ["type"] = "integer",
                ["format"] = "int64",
                ["minimum"] = 0,
                ["description"] = "observedGeneration represents the .metadata.generation that the condition was set based upon. For instance, if .metadata.generation is currently 12, but the .status.conditions[x].observedGeneration is 9, the condition is out of date with respect to the current state of the instance.",
            },
            ["reason"] = new JsonObject
            {
                ["type"] = "string",
                ["minLength"] = 1,
                ["maxLength"] = 1024,
                ["pattern"] = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
                ["description"] = "reason contains a programmatic identifier indicating the reason for the condition's last transition. Producers of specific condition types may define expected values and meanings for this field, and whether the values are considered a guaranteed API. The value should be a CamelCase string. This field may not be empty.",
            },
            ["status"] = new JsonObject
            {
                ["type"] = "string",
                ["enum"] = new JsonArray("True", "False", "Unknown"),
                ["description"] = "status of the condition, one of True, False, Unknown.",
            },
            ["type"] = new JsonObject
            {
                ["type"] = "string",
                ["maxLength"] = 316,
                ["pattern"] = @"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
                ["description"] = "type of condition in CamelCase or in foo.example.com/CamelCase.",
            },
        },
    };
}
