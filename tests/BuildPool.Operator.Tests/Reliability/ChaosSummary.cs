using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// The table a chaos test ends with: how much was thrown at the operator and how many data-safety
/// invariants broke (the only acceptable number is zero). Written to the test output.
/// </summary>
internal sealed class ChaosSummary(string suite)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<string, long> _faults = new(StringComparer.Ordinal);

    public string Suite { get; } = suite;

    public int Runs { get; set; }

    public long InvariantChecks { get; set; }

    public List<string> Violations { get; } = [];

    /// <summary>Children created for an owner already deleted, which the simulated garbage collector removed.</summary>
    public int OrphansCollected { get; set; }

    public void AddFaults(string kind, long count) => _faults[kind] = _faults.GetValueOrDefault(kind) + count;

    public long FaultsInjected => _faults.Values.Sum();

    public string FaultBreakdown => string.Join(", ", _faults.Where(f => f.Value > 0).Select(f => $"{f.Value.ToString(CultureInfo.InvariantCulture)} {f.Key}"));

    public void WriteTo(ITestOutputHelper output)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| {"suite",-22} | {"runs",5} | {"faults injected",15} | {"invariant checks",16} | {"invariant violations",20} | {"time",8} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"|{new string('-', 24)}|{new string('-', 7)}|{new string('-', 17)}|{new string('-', 18)}|{new string('-', 22)}|{new string('-', 10)}|");
        text.AppendLine(CultureInfo.InvariantCulture, $"| {Suite,-22} | {Runs,5} | {FaultsInjected,15} | {InvariantChecks,16} | {Violations.Count,20} | {_clock.Elapsed.TotalSeconds,7:F1}s |");
        text.AppendLine(CultureInfo.InvariantCulture, $"faults: {FaultBreakdown}");
        if (OrphansCollected > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"orphans collected by the simulated garbage collector: {OrphansCollected}");
        }

        foreach (var violation in Violations)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"VIOLATION: {violation}");
        }

        output.WriteLine(text.ToString());
    }
}
