using k8s.Models;

namespace BuildPool.Operator.Status;

/// <summary>
/// The kstatus condition vocabulary (Ready, Reconciling, Stalled) and a setter that keeps
/// lastTransitionTime when a condition's status did not change, as the API conventions ask.
/// </summary>
public static class Conditions
{
    public const string Ready = "Ready";
    public const string Reconciling = "Reconciling";
    public const string Stalled = "Stalled";
    public const string Warning = "Warning";

    public static void Set(IList<V1Condition> conditions, string type, bool status, string reason, string message, long? generation, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        var value = status ? "True" : "False";
        var existing = conditions.FirstOrDefault(c => c.Type == type);
        if (existing is null)
        {
            conditions.Add(new V1Condition { LastTransitionTime = now, Message = message, Reason = reason, Status = value, Type = type, ObservedGeneration = generation });
            return;
        }

        if (existing.Status != value)
        {
            existing.LastTransitionTime = now;
        }

        existing.Status = value;
        existing.Reason = reason;
        existing.Message = message;
        existing.ObservedGeneration = generation;
    }

    public static void Remove(IList<V1Condition> conditions, string type)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        for (var i = conditions.Count - 1; i >= 0; i--)
        {
            if (conditions[i].Type == type)
            {
                conditions.RemoveAt(i);
            }
        }
    }

    /// <summary>A deep copy, so a status can be computed without touching the cached object.</summary>
    public static List<V1Condition> Copy(IEnumerable<V1Condition>? conditions) =>
        (conditions ?? []).Select(c => new V1Condition
        {
            LastTransitionTime = c.LastTransitionTime,
            Message = c.Message,
            Reason = c.Reason,
            Status = c.Status,
            Type = c.Type,
            ObservedGeneration = c.ObservedGeneration,
        }).ToList();

    public static bool IsTrue(IEnumerable<V1Condition>? conditions, string type) =>
        conditions?.Any(c => c.Type == type && c.Status == "True") == true;

    /// <summary>
    /// Sets the three kstatus conditions at once from one outcome, so they never contradict
    /// each other (Ready and Stalled both True, say).
    /// </summary>
    public static void SetOutcome(IList<V1Condition> conditions, Outcome outcome, long? generation, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        switch (outcome.State)
        {
            case OutcomeState.Ready:
                Set(conditions, Ready, true, outcome.Reason, outcome.Message, generation, now);
                Set(conditions, Reconciling, false, outcome.Reason, outcome.Message, generation, now);
                Set(conditions, Stalled, false, outcome.Reason, outcome.Message, generation, now);
                break;
            case OutcomeState.Progressing:
                Set(conditions, Ready, false, outcome.Reason, outcome.Message, generation, now);
                Set(conditions, Reconciling, true, outcome.Reason, outcome.Message, generation, now);
                Set(conditions, Stalled, false, outcome.Reason, outcome.Message, generation, now);
                break;
            default:
                Set(conditions, Ready, false, outcome.Reason, outcome.Message, generation, now);
                Set(conditions, Reconciling, false, outcome.Reason, outcome.Message, generation, now);
                Set(conditions, Stalled, true, outcome.Reason, outcome.Message, generation, now);
                break;
        }
    }
}
