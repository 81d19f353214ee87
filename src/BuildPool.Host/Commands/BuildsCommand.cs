using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace BuildPool.Host.Commands;

/// <summary>
/// <c>buildpool builds --gateway URL [ID] [--key K] [--follow]</c>: a pool's recent builds and the
/// first cache miss of each, from the gateway's metrics port (<c>GET /builds</c>; reach it through
/// <c>kubectl port-forward</c> or the Kubernetes API service proxy). With an ID, that build's steps.
/// Exit codes: 0 shown, 1 the gateway could not be asked, 2 bad input.
/// </summary>
public static class BuildsCommand
{
    public const int Shown = 0;
    public const int Unreachable = 1;
    public const int BadInput = 2;

    public static Command Create()
    {
        var id = new Argument<string?>("id") { Description = "One build's id (its Solve ref): show its steps.", Arity = ArgumentArity.ZeroOrOne };
        var gateway = new Option<string>("--gateway") { Description = "The gateway's metrics address, like http://127.0.0.1:8080 (kubectl port-forward svc/<pool>-gateway 8080), or its Kubernetes API service proxy URL.", Required = true };
        var key = new Option<string?>("--key") { Description = "Only builds of this routing key." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing builds as they finish (Ctrl-C stops)." };
        var limit = new Option<int>("--limit") { Description = "How many recent builds to show (newest last).", DefaultValueFactory = _ => 20 };
        var format = new Option<string>("--format") { Description = "text or json (the gateway's answer as is).", DefaultValueFactory = _ => "text" };
        var command = new Command("builds", "Show a pool's recent builds with the first step each executed instead of taking from cache, and why.")
        {
            id, gateway, key, follow, limit, format,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            return await RunAsync(http, new BuildsQuery(parse.GetValue(gateway)!, parse.GetValue(id), parse.GetValue(key), parse.GetValue(follow), parse.GetValue(limit), parse.GetValue(format)!), Console.Out, Console.Error, cancellationToken);
        });
        return command;
    }

    /// <summary>What to ask the gateway and how to print it.</summary>
    public sealed record BuildsQuery(string Gateway, string? Id, string? Key, bool Follow, int Limit, string Format)
    {
        /// <summary>How often <c>--follow</c> asks again.</summary>
        public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);
    }

    public static async Task<int> RunAsync(HttpClient http, BuildsQuery query, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (!Uri.TryCreate(query.Gateway.TrimEnd('/') + "/", UriKind.Absolute, out var gateway) || gateway.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"buildpool builds: --gateway must be an http(s) URL, not \"{query.Gateway}\"");
            return BadInput;
        }

        if (query.Format is not ("text" or "json") || query.Limit < 1 || (query.Id is not null && query.Follow))
        {
            await error.WriteLineAsync("buildpool builds: --format is text or json, --limit at least 1, and --follow lists builds (not with an id)");
            return BadInput;
        }

        try
        {
            if (query.Id is { } id)
            {
                using var response = await http.GetAsync(new Uri(gateway, "builds/" + Uri.EscapeDataString(id)), cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    await error.WriteLineAsync($"buildpool builds: {(int)response.StatusCode} from {gateway}: {body}");
                    return Unreachable;
                }

                await output.WriteLineAsync(query.Format == "json" ? body : Describe(JsonDocument.Parse(body).RootElement));
                return Shown;
            }

            var list = new Uri(gateway, $"builds?limit={query.Limit.ToString(CultureInfo.InvariantCulture)}" + (query.Key is { } key ? "&key=" + Uri.EscapeDataString(key) : string.Empty));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                var builds = await http.GetFromJsonAsync<JsonElement>(list, cancellationToken);
                // The gateway answers newest first; a terminal reads oldest first, newest at the bottom.
                foreach (var build in builds.GetProperty("builds").EnumerateArray().Reverse())
                {
                    if (seen.Add(build.GetProperty("id").GetString() ?? string.Empty))
                    {
                        await output.WriteLineAsync(query.Format == "json" ? build.GetRawText() : Line(build));
                    }
                }

                await output.FlushAsync(cancellationToken);
                if (!query.Follow)
                {
                    return Shown;
                }

                await Task.Delay(query.Interval, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Shown;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException or KeyNotFoundException or InvalidOperationException)
        {
            await error.WriteLineAsync($"buildpool builds: cannot read recent builds from {gateway}: {e.Message}");
            return Unreachable;
        }
    }

    /// <summary>One build on one line: when, key, builder, queue wait, steps cached, time in executed steps, first miss.</summary>
    public static string Line(JsonElement build) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Text(build, "endedAt")}  {Text(build, "key")}  on {Text(build, "builder")}  queue {Number(build, "queueWaitMs")} ms  cached {Number(build, "cachedSteps")}/{Number(build, "totalSteps")}  executed {Number(build, "executedMs")} ms  first miss: {Miss(build)}  [{Text(build, "id")}]");

    private static string Describe(JsonElement build)
    {
        var lines = new List<string> { Line(build) };
        if (build.TryGetProperty("steps", out var steps))
        {
            foreach (var step in steps.EnumerateArray())
            {
                var marker = step.TryGetProperty("firstMiss", out var first) && first.ValueKind == JsonValueKind.True ? "  <- first miss" : string.Empty;
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {Text(step, "state"),-10} {Number(step, "durationMs"),8} ms  {Text(step, "name")}{marker}"));
            }
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static string Miss(JsonElement build) =>
        build.TryGetProperty("firstMiss", out var miss) && miss.ValueKind == JsonValueKind.Object
            ? $"{Text(miss, "step")} ({Text(miss, "cause")}: {Text(miss, "detail")})"
            : "none";

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";

    private static string Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("F0", CultureInfo.InvariantCulture) : "-";
}
