using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Builds;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BuildPool.Gateway.Insight;

/// <summary>
/// The recent builds on the gateway's metrics port: <c>GET /builds</c> (JSON, newest first,
/// bounded; <c>?key=</c> filters, <c>?limit=</c> up to <see cref="MaxLimit"/>), <c>GET /builds/{id}</c>
/// (one build with its steps) and a read-only HTML page at <c>/</c>. The page has no scripts and
/// no external assets, and every text in it is HTML-encoded: step names and keys come from clients.
/// </summary>
public static class BuildPages
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1024;

    /// <summary>Maps the three routes; <paramref name="builds"/> may answer null (no gateway yet, or passthrough mode).</summary>
    public static void MapBuildPages(this IEndpointRouteBuilder endpoints, Func<BuildCorrelator?> builds)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(builds);
        endpoints.MapGet("/builds", (HttpContext context) =>
        {
            var key = context.Request.Query["key"].FirstOrDefault();
            var limit = int.TryParse(context.Request.Query["limit"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, MaxLimit) : DefaultLimit;
            var list = Newest(builds(), key, limit);
            return Results.Text(new JsonObject { ["builds"] = new JsonArray([.. list.Select(b => (JsonNode)Json(b, steps: false))]) }.ToJsonString(), "application/json");
        });
        endpoints.MapGet("/builds/{id}", (string id) =>
            Newest(builds(), key: null, MaxLimit).FirstOrDefault(b => b.Ref == id) is { } build
                ? Results.Text(Json(build, steps: true).ToJsonString(), "application/json")
                : Results.Text(new JsonObject { ["error"] = $"no recent build {id}" }.ToJsonString(), "application/json", statusCode: 404));
        endpoints.MapGet("/", () => Results.Text(Html(Newest(builds(), key: null, DefaultLimit)), "text/html; charset=utf-8"));
    }

    /// <summary>Finished builds, newest first.</summary>
    public static IReadOnlyList<BuildSummary> Newest(BuildCorrelator? builds, string? key, int limit) =>
        builds is null
            ? []
            : [.. builds.RecentBuilds.Reverse().Where(b => key is null || b.Key == key).Take(limit)];

    /// <summary>One build as the JSON endpoints give it; with its steps for <c>/builds/{id}</c>.</summary>
    public static JsonObject Json(BuildSummary build, bool steps)
    {
        ArgumentNullException.ThrowIfNull(build);
        var json = new JsonObject
        {
            ["id"] = build.Ref,
            ["key"] = build.Key,
            ["keySource"] = build.KeySource,
            ["builder"] = build.Backend,
            ["tenant"] = build.Tenant,
            ["isolation"] = build.Isolation,
            ["endedAt"] = build.EndedAt.ToString("O", CultureInfo.InvariantCulture),
            ["waitMs"] = Math.Round(build.Wait.TotalMilliseconds),
            ["queueWaitMs"] = Math.Round(build.QueueWait.TotalMilliseconds),
            ["durationMs"] = Math.Round(build.Duration.TotalMilliseconds),
            ["cachedSteps"] = build.CachedSteps,
            ["totalSteps"] = build.TotalSteps,
            ["executedMs"] = Math.Round(build.ExecutedTime.TotalMilliseconds),
            ["grpcStatus"] = build.GrpcStatus,
            ["firstMiss"] = build.FirstMiss is { } miss
                ? new JsonObject { ["step"] = miss.Step, ["cause"] = miss.CauseLabel, ["detail"] = miss.Detail }
                : null,
        };
        if (steps)
        {
            json["steps"] = new JsonArray([.. build.Steps.Select(s => (JsonNode)new JsonObject
            {
                ["name"] = s.Name,
                ["digest"] = s.Digest,
                ["inputs"] = new JsonArray([.. s.Inputs.Select(i => (JsonNode)JsonValue.Create(i))]),
                ["state"] = State(s),
                ["durationMs"] = Math.Round(s.Duration.TotalMilliseconds),
                ["firstMiss"] = build.FirstMiss?.Step == s.Name && !s.Cached,
            })]);
        }

        return json;
    }

    /// <summary>The page at <c>/</c>: one table row per build.</summary>
    public static string Html(IReadOnlyList<BuildSummary> builds)
    {
        ArgumentNullException.ThrowIfNull(builds);
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>BuildPool gateway: recent builds</title>
            <style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
            .cause{font-weight:bold}.none{color:#080}</style></head><body>
            <h1>Recent builds</h1>
            <p>Newest first. JSON: <a href="/builds">/builds</a>, one build with its steps: /builds/&lt;id&gt;.</p>
            """);
        if (builds.Count == 0)
        {
            html.Append("<p id=\"no-builds\">No finished builds yet.</p></body></html>");
            return html.ToString();
        }

        html.Append("<table id=\"builds\"><thead><tr><th>ended</th><th>key</th><th>builder</th><th>queue wait</th><th>steps cached</th><th>executed</th><th>first miss</th></tr></thead><tbody>");
        foreach (var build in builds)
        {
            html.Append("<tr class=\"build\" data-id=\"").Append(E(build.Ref)).Append("\">")
                .Append("<td><a href=\"/builds/").Append(E(Uri.EscapeDataString(build.Ref))).Append("\">").Append(E(build.EndedAt.ToString("u", CultureInfo.InvariantCulture))).Append("</a></td>")
                .Append("<td class=\"key\">").Append(E(build.Key ?? "-")).Append("</td>")
                .Append("<td class=\"builder\">").Append(E(build.Backend ?? "-")).Append("</td>")
                .Append("<td>").Append(Ms(build.QueueWait)).Append("</td>")
                .Append("<td class=\"cached\">").Append(build.CachedSteps.ToString(CultureInfo.InvariantCulture)).Append('/').Append(build.TotalSteps.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td>").Append(Ms(build.ExecutedTime)).Append("</td>")
                .Append("<td class=\"miss\">");
            if (build.FirstMiss is { } miss)
            {
                html.Append(E(miss.Step)).Append(" <span class=\"cause\">").Append(E(miss.CauseLabel)).Append("</span>: ").Append(E(miss.Detail));
            }
            else
            {
                html.Append("<span class=\"none\">").Append(build.TotalSteps > 0 ? "none: every step cached" : "no steps reported").Append("</span>");
            }

            html.Append("</td></tr>");
        }

        html.Append("</tbody></table></body></html>");
        return html.ToString();
    }

    private static string State(StatusVertex step) =>
        step.Cached ? "cached" : step.Failed ? "failed" : step.Completed is null ? "incomplete" : "executed";

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) + " ms";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
