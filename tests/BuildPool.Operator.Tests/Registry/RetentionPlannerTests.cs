using BuildPool.Operator.Registry;

namespace BuildPool.Operator.Tests.Registry;

public sealed class RetentionPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private const long Mi = 1 << 20;

    /// <summary>A tag "name" pushed ageHours ago, one blob of its own unless blobs are given; null age means undated.</summary>
    private static CacheTag Tag(string name, double? ageHours, long bytes = Mi, string? digest = null, params string[] sharedBlobs) =>
        new(
            "cache/app",
            name,
            digest ?? "sha256:" + name,
            ageHours is { } h ? Now.AddHours(-h) : null,
            sharedBlobs.Select(b => new RegistryBlob(b, bytes)).DefaultIfEmpty(new RegistryBlob("blob-" + (digest ?? name), bytes)).ToList());

    public static TheoryData<string, CacheTag[], RetentionLimits, string[]> Cases => new()
    {
        {
            "Without limits nothing is deleted",
            [Tag("a", 1000), Tag("b", 1)],
            RetentionLimits.None,
            []
        },
        {
            "maxAge deletes exactly the tags older than the limit, oldest first",
            [Tag("fresh", 1), Tag("week", 169), Tag("month", 720), Tag("edge", 168)],
            new RetentionLimits(MaxAge: TimeSpan.FromHours(168)),
            ["month", "week"]
        },
        {
            "maxTags keeps the most recently pushed tags",
            [Tag("t1", 5), Tag("t2", 4), Tag("t3", 3), Tag("t4", 2), Tag("t5", 1)],
            new RetentionLimits(MaxTags: 2),
            ["t1", "t2", "t3"]
        },
        {
            "maxBytes deletes the oldest caches until the rest fit",
            [Tag("old", 30, 40 * Mi), Tag("mid", 20, 40 * Mi), Tag("new", 10, 40 * Mi)],
            new RetentionLimits(MaxBytes: 100 * Mi),
            ["old"]
        },
        {
            "maxBytes counts a blob shared by several caches once",
            [Tag("old", 30, 40 * Mi, null, "base", "old-top"), Tag("new", 10, 40 * Mi, null, "base", "new-top")],
            new RetentionLimits(MaxBytes: 120 * Mi),
            []
        },
        {
            "maxBytes deletes even the newest cache when it alone is over the limit",
            [Tag("huge", 1, 500 * Mi)],
            new RetentionLimits(MaxBytes: 100 * Mi),
            ["huge"]
        },
        {
            "A manifest still tagged by a kept tag is never deleted",
            [Tag("main", 2, Mi, "sha256:same"), Tag("release", 2, Mi, "sha256:same"), Tag("old", 50)],
            new RetentionLimits(MaxTags: 1),
            ["old"]
        },
        {
            "An undated cache is never deleted for its age and goes last for maxTags",
            [Tag("undated", null), Tag("old", 500), Tag("new", 1)],
            new RetentionLimits(MaxAge: TimeSpan.FromHours(24), MaxTags: 2),
            ["old"]
        },
        {
            "Limits combine: a tag breaking any of them goes",
            [Tag("a", 400), Tag("b", 3, 60 * Mi), Tag("c", 2, 60 * Mi), Tag("d", 1, 60 * Mi)],
            new RetentionLimits(MaxAge: TimeSpan.FromHours(336), MaxTags: 3, MaxBytes: 150 * Mi),
            ["a", "b"]
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Retention_deletes_exactly_the_expected_tags(string name, CacheTag[] tags, RetentionLimits limits, string[] expected)
    {
        var plan = RetentionPlanner.Plan(tags, limits, Now);
        Assert.True(expected.SequenceEqual(plan.Delete.Select(d => d.Tag.Tag)), $"{name}: deleted [{string.Join(", ", plan.Delete.Select(d => d.Tag.Tag))}], expected [{string.Join(", ", expected)}]");
        Assert.Equal(tags.Length, plan.Delete.Count + plan.Keep.Count);
    }

    [Fact]
    public void A_tag_chosen_by_a_limit_but_sharing_its_manifest_with_a_kept_tag_is_reported_as_spared()
    {
        var plan = RetentionPlanner.Plan([Tag("main", 2, Mi, "sha256:same"), Tag("release", 2, Mi, "sha256:same")], new RetentionLimits(MaxTags: 1), Now);
        var spared = Assert.Single(plan.Spared);
        Assert.Equal("main", spared.Tag.Tag);
        Assert.Contains("also tagged cache/app:release", spared.Reason, StringComparison.Ordinal);
        Assert.Empty(plan.Delete);
    }

    [Fact]
    public void Freed_bytes_leave_out_blobs_that_kept_caches_still_reference()
    {
        var plan = RetentionPlanner.Plan(
            [Tag("old", 30, 10 * Mi, null, "base", "old-top"), Tag("new", 1, 10 * Mi, null, "base", "new-top")],
            new RetentionLimits(MaxTags: 1),
            Now);
        Assert.Equal(30 * Mi, plan.BytesBefore);
        Assert.Equal(10 * Mi, plan.FreedBytes);
        Assert.Equal(20 * Mi, plan.BytesAfter);
    }

    [Fact]
    public void Each_deleted_tag_says_which_limit_chose_it()
    {
        var plan = RetentionPlanner.Plan([Tag("a", 400), Tag("b", 2), Tag("c", 1)], new RetentionLimits(MaxAge: TimeSpan.FromHours(336), MaxTags: 1), Now);
        Assert.Equal(["older than 336h (pushed 2026-02-12T20:00:00Z)", "beyond the newest 1 tags"], plan.Delete.Select(d => d.Reason));
    }

    [Fact]
    public void Two_tags_on_one_manifest_are_deleted_with_one_manifest_delete()
    {
        var plan = RetentionPlanner.Plan([Tag("x", 500, Mi, "sha256:m"), Tag("y", 500, Mi, "sha256:m"), Tag("z", 1)], new RetentionLimits(MaxAge: TimeSpan.FromHours(24)), Now);
        Assert.Equal(2, plan.Delete.Count);
        Assert.Equal([("cache/app", "sha256:m")], plan.Manifests);
    }
}
