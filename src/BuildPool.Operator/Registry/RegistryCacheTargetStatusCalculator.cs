using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Status;

namespace BuildPool.Operator.Registry;

/// <summary>Status of a RegistryCacheTarget from the last check. Pure.</summary>
public static class RegistryCacheTargetStatusCalculator
{
    public static RegistryCacheTargetStatus Compute(RegistryCacheTarget target, RegistryCheck check, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(check);
        var previous = target.Status ?? new RegistryCacheTargetStatus();
        var generation = target.Metadata.Generation;
        var status = new RegistryCacheTargetStatus
        {
            ObservedGeneration = generation,
            Conditions = Conditions.Copy(previous.Conditions),
        };
        Conditions.SetOutcome(status.Conditions, check.Outcome, generation, now);

        if (!check.SpecValid)
        {
            // Numbers about a ref that is no longer valid would describe something else.
            return status;
        }

        status.Reachable = check.Reachable;
        status.TagCount = check.TagCount ?? previous.TagCount;
        status.Bytes = check.Bytes ?? previous.Bytes;
        status.LastGC = check.LastGC ?? previous.LastGC;
        status.FreedBytes = check.FreedBytes ?? previous.FreedBytes;
        status.BuildxFlags = target.Spec.Managed
            ? BuildxFlagsRenderer.Render(target.Spec, RegistryCacheTargetValidator.EffectiveRef(target))
            : BuildxFlagsRenderer.Render(target.Spec);
        return status;
    }
}
