using k8s.Models;

namespace BuildPool.Operator.Status;

/// <summary>
/// A change to one condition, decided by a step that does not own the status (forks, snapshots,
/// space): the status function applies it with the reconcile's generation and time.
/// </summary>
/// <param name="Status">The condition's new status; null removes the condition.</param>
public sealed record ConditionChange(string Type, bool? Status, string Reason, string Message)
{
    public static ConditionChange Set(string type, bool status, string reason, string message) => new(type, status, reason, message);

    public static ConditionChange Remove(string type) => new(type, null, string.Empty, string.Empty);

    public void ApplyTo(IList<V1Condition> conditions, long? generation, DateTime now)
    {
        if (Status is { } status)
        {
            Conditions.Set(conditions, Type, status, Reason, Message, generation, now);
        }
        else
        {
            Conditions.Remove(conditions, Type);
        }
    }
}
