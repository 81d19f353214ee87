using System.Globalization;
using System.Text.RegularExpressions;

namespace BuildPool.TestDoubles;

/// <summary>One finished buildx command: exit code, everything it printed, and how long it took.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="Output">stdout then stderr (buildx prints progress on stderr).</param>
/// <param name="Elapsed">Wall time from process start to exit.</param>
/// <param name="TimedOut">True when the deadline passed and the process was killed.</param>
public sealed partial record BuildxRun(int ExitCode, string Output, TimeSpan Elapsed, bool TimedOut)
{
    /// <summary>Exited 0 within its deadline.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>
    /// The build's vertexes from plain progress output (<c>#4 [1/2] COPY a /a</c>, <c>#4 CACHED</c>,
    /// <c>#4 DONE 0.1s</c>, <c>#9 0.052 log text</c>; <c>#0 0.052 log text</c> belongs to the step
    /// named last), in the order they first appear.
    /// </summary>
    public IReadOnlyList<BuildxStep> Steps
    {
        get
        {
            var steps = new Dictionary<int, BuildxStep>();
            var order = new List<int>();
            var current = 0;
            foreach (var line in Output.Split('\n'))
            {
                var text = line.TrimEnd('\r');
                if (text == "------")
                {
                    // A failed build's error summary follows, repeating the failed step's log lines.
                    break;
                }

                var match = VertexLine().Match(text);
                if (!match.Success)
                {
                    continue;
                }

                var number = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                var rest = match.Groups[2].Value;
                if (number == 0 && current != 0)
                {
                    // buildx 0.10 prints a step's log lines as "#0 0.050 text" under the step whose name it printed last.
                    number = current;
                }

                current = number;
                if (!steps.TryGetValue(number, out var step))
                {
                    // buildx reprints a vertex's name line whenever output switches back to it; the first line is the name.
                    steps[number] = new BuildxStep(number, rest);
                    order.Add(number);
                    continue;
                }

                if (rest == "CACHED")
                {
                    steps[number] = step with { Cached = true };
                }
                else if (DoneLine().Match(rest) is { Success: true } done)
                {
                    steps[number] = step with { Duration = TimeSpan.FromSeconds(double.Parse(done.Groups[1].Value, CultureInfo.InvariantCulture)) };
                }
                else if (rest.StartsWith("ERROR", StringComparison.Ordinal))
                {
                    steps[number] = step with { Error = rest };
                }
                else if (LogLine().Match(rest) is { Success: true } log)
                {
                    steps[number] = step with { Log = [.. step.Log, log.Groups[1].Value] };
                }
            }

            return [.. order.Select(n => steps[n])];
        }
    }

    /// <summary>The steps that come from Dockerfile instructions (<c>[stage n/m]</c>), not buildx's internal loads.</summary>
    public IReadOnlyList<BuildxStep> DockerfileSteps => [.. Steps.Where(s => s.IsDockerfileStep)];

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"exit {ExitCode}{(TimedOut ? " (killed at its deadline)" : "")} after {Elapsed.TotalSeconds:F1} s:\n{Output}");

    [GeneratedRegex(@"^#(\d+) (.*)$")]
    private static partial Regex VertexLine();

    [GeneratedRegex(@"^DONE (\d+(?:\.\d+)?)s$")]
    private static partial Regex DoneLine();

    [GeneratedRegex(@"^\d+\.\d+ (.*)$")]
    private static partial Regex LogLine();
}
