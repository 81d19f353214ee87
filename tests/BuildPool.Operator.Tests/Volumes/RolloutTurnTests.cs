using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Status;
using BuildPool.Operator.Volumes;
using static BuildPool.Operator.Tests.Volumes.VolumeWorld;

namespace BuildPool.Operator.Tests.Volumes;

/// <summary><see cref="RolloutTurn.Decide"/> as a table: the pool's turn annotation and its volumes in, ci-0's turn out.</summary>
public sealed class RolloutTurnTests
{
    private sealed record Case(string? Holder, CacheVolume[] Others, RolloutTurn.Decision Expected);

    private static CacheVolume Stalled(string name)
    {
        var volume = NewVolume(name, CacheVolumePhase.Pending);
        volume.Status.Conditions.Add(Condition(Conditions.Stalled, true, "InvalidSpec", Now));
        return volume;
    }

    private static CacheVolume Deleting(string name)
    {
        var volume = NewVolume(name, CacheVolumePhase.Ready);
        volume.Metadata.DeletionTimestamp = Now;
        return volume;
    }

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["A_pool_nobody_holds_the_turn_of_gives_it_to_the_first_volume_that_asks"] = new(null, [NewVolume("ci-1", CacheVolumePhase.Ready)], RolloutTurn.Decision.Take),
        ["The_holder_keeps_its_turn"] = new("ci-0", [NewVolume("ci-1", CacheVolumePhase.Ready)], RolloutTurn.Decision.Mine),
        ["A_turn_recorded_for_another_volume_by_any_leader_makes_this_one_wait"] = new("ci-1", [NewVolume("ci-1", CacheVolumePhase.Ready)], RolloutTurn.Decision.Wait),
        ["Another_volume_draining_makes_even_the_holder_wait"] = new("ci-0", [NewVolume("ci-1", CacheVolumePhase.Draining)], RolloutTurn.Decision.Wait),
        ["Another_builder_starting_makes_a_free_turn_wait"] = new(null, [NewVolume("ci-1", CacheVolumePhase.Starting)], RolloutTurn.Decision.Wait),
        ["A_turn_held_by_a_volume_that_no_longer_exists_is_free"] = new("ci-9", [NewVolume("ci-1", CacheVolumePhase.Ready)], RolloutTurn.Decision.Take),
        ["A_turn_held_by_a_volume_being_deleted_is_free"] = new("ci-1", [Deleting("ci-1")], RolloutTurn.Decision.Take),
        ["A_turn_held_by_a_stalled_volume_is_free"] = new("ci-1", [Stalled("ci-1")], RolloutTurn.Decision.Take),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void The_turn_goes_as_the_table_says(string name)
    {
        var c = Cases[name];
        var pool = NewPool();
        if (c.Holder is { } holder)
        {
            pool.Metadata.Annotations = new Dictionary<string, string> { [RolloutTurn.Annotation] = holder };
        }

        Assert.Equal(c.Expected, RolloutTurn.Decide(pool, "ci-0", [NewVolume("ci-0", CacheVolumePhase.Ready), .. c.Others]));
    }
}
