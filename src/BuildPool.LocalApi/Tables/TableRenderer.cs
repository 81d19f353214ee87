using System.Text.Json;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Discovery;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Tables;

/// <summary>Server-side printing: the <c>meta.k8s.io/v1 Table</c> kubectl asks for with <c>as=Table</c>.</summary>
internal static class TableRenderer
{
    public static JsonObject Render(ResourceType rt, IEnumerable<JsonObject> objects, string resourceVersion, string? continueToken, string includeObject, DateTimeOffset now)
    {
        var columns = Columns(rt);
        var defs = new JsonArray
        {
            new JsonObject { ["name"] = "Name", ["type"] = "string", ["format"] = "name", ["description"] = "Name must be unique within a namespace.", ["priority"] = 0 },
        };
        foreach (var c in columns)
        {
            defs.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format ?? "",
                ["description"] = c.Description ?? c.Name,
                ["priority"] = c.Priority,
            });
        }

        var rows = new JsonArray();
        foreach (var obj in objects)
        {
            var cells = new JsonArray { JsonUtil.Name(obj) };
            foreach (var c in columns)
            {
                cells.Add(Cell(obj, c, now));
            }

            var row = new JsonObject { ["cells"] = cells };
            switch (includeObject)
            {
                case "None":
                    break;
                case "Object":
                    row["object"] = obj.DeepClone();
                    break;
                default:
                    row["object"] = new JsonObject
                    {
                        ["kind"] = "PartialObjectMetadata",
                        ["apiVersion"] = "meta.k8s.io/v1",
                        ["metadata"] = obj["metadata"]?.DeepClone(),
                    };
                    break;
            }

            rows.Add(row);
        }

        var meta = new JsonObject { ["resourceVersion"] = resourceVersion };
        if (continueToken is not null)
        {
            meta["continue"] = continueToken;
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = meta,
            ["columnDefinitions"] = defs,
            ["rows"] = rows,
        };
    }

    private static IReadOnlyList<PrinterColumn> Columns(ResourceType rt)
    {
        if (rt.IsCustom)
        {
            return rt.PrinterColumns;
        }

        // Built-ins end with AGE, as the real server's printers do.
        return [.. rt.PrinterColumns, new PrinterColumn("Age", "date", ".metadata.creationTimestamp")];
    }

    private static JsonNode? Cell(JsonObject obj, PrinterColumn column, DateTimeOffset now)
    {
        if (column.Compute is { } compute)
        {
            return compute(obj);
        }

        var matches = SimpleJsonPath.Evaluate(obj, column.JsonPath);
        if (matches.Count == 0)
        {
            return null;
        }

        var value = matches[0];
        if (column.Type == "date")
        {
            return JsonUtil.ParseTime(JsonUtil.Str(value)) is { } t ? HumanDuration.Format(now - t) : JsonUtil.Str(value);
        }

        if (matches.Count > 1)
        {
            return string.Join(",", matches.Select(m => JsonUtil.Str(m) ?? m.ToJsonString()));
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.Object or JsonValueKind.Array => value.ToJsonString(),
            _ => value.DeepClone(),
        };
    }
}
