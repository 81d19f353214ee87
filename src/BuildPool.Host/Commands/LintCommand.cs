using System.CommandLine;
using BuildPool.Lint;
using BuildPool.Lint.Parsing;

namespace BuildPool.Host.Commands;

/// <summary>
/// <c>buildpool lint [PATH] [--format text|json] [--fail-on warning]</c>: the cache doctor for
/// Dockerfiles. Exit codes: 0 nothing at or above <c>--fail-on</c>, 1 findings at or above it,
/// 2 bad input (no such file, not a Dockerfile, unknown option value).
/// </summary>
public static class LintCommand
{
    public const int Clean = 0;
    public const int Findings = 1;
    public const int BadInput = 2;

    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A Dockerfile, or a directory holding one named Dockerfile.", DefaultValueFactory = _ => "." };
        var format = new Option<string>("--format") { Description = "text (file:line, cost and fix) or json (for CI).", DefaultValueFactory = _ => "text" };
        var failOn = new Option<string>("--fail-on") { Description = "Exit 1 when a finding has this severity or a higher one: info, warning or error.", DefaultValueFactory = _ => "warning" };
        var context = new Option<string?>("--context") { Description = "The build context directory, where .dockerignore is looked for (default: the Dockerfile's directory)." };
        var command = new Command("lint", "Find the steps of a Dockerfile that waste BuildKit's cache or leak secrets into it, with the line, the cost and the fix.")
        {
            path, format, failOn, context,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(path)!, parse.GetValue(format)!, parse.GetValue(failOn)!, parse.GetValue(context), Console.Out, Console.Error, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(string path, string format, string failOn, string? context, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (format is not ("text" or "json"))
        {
            await error.WriteLineAsync($"buildpool lint: --format must be text or json, not \"{format}\"");
            return BadInput;
        }

        Severity? threshold = failOn switch { "info" => Severity.Info, "warning" => Severity.Warning, "error" => Severity.Error, _ => null };
        if (threshold is null)
        {
            await error.WriteLineAsync($"buildpool lint: --fail-on must be info, warning or error, not \"{failOn}\"");
            return BadInput;
        }

        // `buildpool lint` in a project prints Dockerfile:3, as an editor or CI annotation expects.
        var file = !Directory.Exists(path) ? path : path is "." or "./" ? "Dockerfile" : Path.Combine(path, "Dockerfile");
        if (!File.Exists(file))
        {
            await error.WriteLineAsync($"buildpool lint: no Dockerfile at {file}");
            return BadInput;
        }

        if (context is not null && !Directory.Exists(context))
        {
            await error.WriteLineAsync($"buildpool lint: --context {context} is not a directory");
            return BadInput;
        }

        IReadOnlyList<Finding> findings;
        try
        {
            findings = await DockerfileLinter.LintFileAsync(file, context, cancellationToken);
        }
        catch (DockerfileParseException e)
        {
            await error.WriteLineAsync($"buildpool lint: {file}: {e.Message}");
            return BadInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"buildpool lint: cannot read {file}: {e.Message}");
            return BadInput;
        }

        if (format == "json")
        {
            using var buffer = new MemoryStream();
            LintReportWriter.WriteJson(buffer, file, findings);
            await output.WriteAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        }
        else
        {
            LintReportWriter.WriteText(output, file, findings);
        }

        return findings.Any(f => f.Severity >= threshold) ? Findings : Clean;
    }
}
