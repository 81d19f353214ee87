using System.Globalization;

namespace BuildPool.Gateway.Insight;

/// <summary>
/// Where a Dockerfile step stands, from the prefix the frontend writes in its vertex name:
/// <c>[2/4] RUN …</c> is step 2 of 4 of the only stage, <c>[build 2/5] RUN …</c> step 2 of 5 of
/// stage <c>build</c> (unnamed stages are <c>stage-N</c>). <c>[internal] …</c> is no step.
/// </summary>
/// <param name="Stage">The stage name; empty for a single-stage Dockerfile.</param>
/// <param name="Index">The step's number in its stage, from 1.</param>
/// <param name="Count">The steps in its stage.</param>
/// <param name="Command">The name after the prefix (<c>RUN echo base-1 &gt; /b</c>).</param>
public readonly record struct StepPosition(string Stage, int Index, int Count, string Command)
{
    /// <summary>The prefix as written: <c>[2/4]</c> or <c>[build 2/5]</c>.</summary>
    public string Prefix => Stage.Length == 0
        ? string.Create(CultureInfo.InvariantCulture, $"[{Index}/{Count}]")
        : string.Create(CultureInfo.InvariantCulture, $"[{Stage} {Index}/{Count}]");

    /// <summary>Reads the position of a vertex name; false for <c>[internal]</c> and names without one.</summary>
    public static bool TryParse(string name, out StepPosition position)
    {
        position = default;
        if (!name.StartsWith('['))
        {
            return false;
        }

        var end = name.IndexOf(']', StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var inside = name.AsSpan(1, end - 1);
        var space = inside.LastIndexOf(' ');
        var numbers = space < 0 ? inside : inside[(space + 1)..];
        var slash = numbers.IndexOf('/');
        if (slash <= 0
            || !int.TryParse(numbers[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(numbers[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return false;
        }

        position = new StepPosition(space < 0 ? string.Empty : inside[..space].ToString(), index, count, name[(end + 1)..].Trim());
        return true;
    }

    /// <summary>The same step of the same stage, whatever the stage's step count (a line added elsewhere renumbers the count, not the step).</summary>
    public bool SameStep(StepPosition other) =>
        Index == other.Index && string.Equals(Stage, other.Stage, StringComparison.Ordinal);
}
