using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Insight;

namespace BuildPool.Gateway.Tests.Insight;

/// <summary>
/// The classifier on Status vertexes shaped like real buildkitd's (BUILDKIT-FACTS): context-free
/// steps keep their digests between builds, context-reading and [internal] ones get new ones.
/// </summary>
public sealed class MissClassifierTests
{
    private const string Key = "team/app";
    private const string Here = "builder-1";
    private const string There = "builder-0";
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    // One build of the four-step Dockerfile of BUILDKIT-FACTS; [3/4] and [4/4] read the context.
    private static List<StatusVertex> Build(string build, int firstExecuted = 99, string v = "1", string from = "sha256:3e39", string? run2Digest = null)
    {
        var steps = new List<(string Name, string Digest, string[] Inputs)>
        {
            ("[internal] load build definition from Dockerfile", build + "/def", []),
            ("[internal] load .dockerignore", build + "/ignore", []),
            ("[internal] load metadata for reg/img:1", build + "/meta", []),
            ("[internal] load build context", build + "/ctx", []),
            ($"[1/4] FROM reg/img:1@{from}", "from-" + from, []),
            ($"[2/4] RUN echo base-{v} > /b", run2Digest ?? "run-" + v + from, ["from-" + from]),
            ("[3/4] COPY data.txt /d", build + "/copy", [run2Digest ?? "run-" + v + from, build + "/ctx"]),
            ("[4/4] RUN cat /d /b > /e", build + "/run4", [build + "/copy"]),
        };
        return steps.Select((s, i) =>
        {
            var isInternal = s.Name.StartsWith("[internal]", StringComparison.Ordinal);
            var cached = !isInternal && i - 4 + 1 < firstExecuted;
            return new StatusVertex(s.Digest, s.Name, s.Inputs, cached, T0, cached ? T0 : T0.AddSeconds(2), Failed: false);
        }).ToList();
    }

    private static PastBuild Past(string builder, List<StatusVertex> steps, int minutesAgo = 10, string reference = "ref-old") =>
        new(reference, builder, T0.AddMinutes(-minutesAgo), steps);

    private static MissFacts Facts(List<StatusVertex> steps, string? noCache = null, string? why = null, string? key = Key, PruneRecord[]? prunes = null, params PastBuild[] history) =>
        new(steps, Here, key, noCache, history, why, prunes ?? []);

    [Fact]
    public void A_fully_cached_build_has_no_first_miss()
    {
        Assert.Null(MissClassifier.Classify(Facts(Build("b2"), history: Past(Here, Build("b1")))));
    }

    /// <summary>
    /// Seen with real buildkitd v0.24.0 and buildx v0.28.0 through the gateway, building
    /// <c>FROM scratch</c>, <c>ARG V=1</c>, <c>WORKDIR /w$V</c>, <c>COPY a /a</c> twice: on the repeat
    /// build <c>[1/2] WORKDIR /w1</c> is reported done and not cached, and <c>[2/2] COPY a /a</c>,
    /// which reads its result, cached. Nothing missed; it was once called "evicted".
    /// </summary>
    [Fact]
    public void A_step_a_cached_step_reads_did_not_miss_even_when_buildkitd_does_not_flag_it_cached()
    {
        List<StatusVertex> Repeat(string build) =>
        [
            new(build + "/def", "[internal] load build definition from Dockerfile", [], false, T0, T0, false),
            new(build + "/ignore", "[internal] load .dockerignore", [], false, T0, T0, false),
            new("workdir-w1", "[1/2] WORKDIR /w1", [], false, T0, T0.AddMilliseconds(20), false),
            new(build + "/ctx", "[internal] load build context", [], false, T0, T0, false),
            new(build + "/copy", "[2/2] COPY a /a", ["workdir-w1", build + "/ctx"], true, T0, T0, false),
        ];

        Assert.Null(MissClassifier.Classify(Facts(Repeat("b2"), history: Past(Here, Repeat("b1")))));
    }

    /// <summary>
    /// Also seen with real buildkitd v0.24.0: with <c>--build-arg V=2</c> the Status stream
    /// reported <c>[2/2] COPY a /a</c> before <c>[1/2] WORKDIR /w2</c>, both executed. The miss
    /// is the step the other read, whatever the order of the report.
    /// </summary>
    [Fact]
    public void The_first_miss_is_the_executed_step_the_others_read_not_the_first_one_reported()
    {
        List<StatusVertex> Arg(string build, string v) =>
        [
            new(build + "/def", "[internal] load build definition from Dockerfile", [], false, T0, T0, false),
            new(build + "/copy", "[2/2] COPY a /a", ["workdir-w" + v, build + "/ctx"], false, T0, T0.AddMilliseconds(40), false),
            new(build + "/ctx", "[internal] load build context", [], false, T0, T0, false),
            new("workdir-w" + v, $"[1/2] WORKDIR /w{v}", [], false, T0, T0.AddMilliseconds(20), false),
        ];

        var miss = MissClassifier.Classify(Facts(Arg("b2", "2"), history: Past(Here, Arg("b1", "1"))));

        Assert.Equal("[1/2] WORKDIR /w2", miss?.Step);
        Assert.Equal(MissCause.DefinitionChanged, miss?.Cause);
    }

    [Theory]
    [InlineData("", "[1/4] FROM reg/img:1@sha256:3e39", "the client asked for --no-cache")]
    [InlineData("stage-0", "[1/4] FROM reg/img:1@sha256:3e39", "the client asked for --no-cache-filter stage-0")]
    public void A_client_that_asked_for_no_cache_is_told_so(string noCache, string step, string detail)
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 1), noCache: noCache, history: Past(Here, Build("b1"))));

        Assert.Equal(new FirstMiss(step, MissCause.NoCache, detail), miss);
    }

    [Fact]
    public void A_no_cache_filter_of_another_stage_does_not_explain_the_miss()
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 3), noCache: "test", history: Past(Here, Build("b1"))));

        Assert.Equal(MissCause.ContextChanged, miss!.Cause);
    }

    [Fact]
    public void The_first_build_of_a_key_is_a_cold_builder()
    {
        var miss = MissClassifier.Classify(Facts(Build("b1", firstExecuted: 1)));

        Assert.Equal(MissCause.ColdBuilder, miss!.Cause);
        Assert.Equal("[1/4] FROM reg/img:1@sha256:3e39", miss.Step);
        Assert.Contains("no earlier build of key team/app", miss.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_keyless_build_is_unknown_rather_than_guessed()
    {
        Assert.Equal(MissCause.Unknown, MissClassifier.Classify(Facts(Build("b1", firstExecuted: 1), key: null))!.Cause);
    }

    [Fact]
    public void A_build_whose_last_builder_was_draining_moved_and_names_it_and_why()
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 1), why: "draining", history: Past(There, Build("b1"))));

        Assert.Equal(MissCause.Moved, miss!.Cause);
        Assert.Equal("the key's last build ran on builder-0, not used now: draining; builder-1 never built it", miss.Detail);
    }

    [Fact]
    public void A_key_the_ring_gave_to_a_new_volume_is_a_cold_builder_naming_where_it_built_before()
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 1), history: Past(There, Build("b1"))));

        Assert.Equal(MissCause.ColdBuilder, miss!.Cause);
        Assert.Equal("key team/app never built on builder-1 (a new volume); its last build ran on builder-0", miss.Detail);
    }

    [Fact]
    public void A_key_back_on_a_builder_it_used_before_moved_without_a_known_reason()
    {
        var miss = MissClassifier.Classify(Facts(Build("b3", firstExecuted: 1), history: [Past(There, Build("b2"), 5), Past(Here, Build("b1"), 20)]));

        Assert.Equal(MissCause.Moved, miss!.Cause);
        Assert.Equal("the key's last build ran on builder-0; placement now sends it to builder-1", miss.Detail);
    }

    [Fact]
    public void A_copy_from_the_context_that_executed_is_context_changed_or_evicted()
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 3), history: Past(Here, Build("b1"))));

        Assert.Equal(new FirstMiss("[3/4] COPY data.txt /d", MissCause.ContextChanged,
            "it reads the build context: files it uses changed since the last build on builder-1, or its cache was evicted"), miss);
        Assert.Equal("[3/4] COPY data.txt /d (context-changed: it reads the build context: files it uses changed since the last build on builder-1, or its cache was evicted)", miss!.ToString());
    }

    [Fact]
    public void A_step_that_reads_the_context_through_its_inputs_names_the_step_that_reads_it()
    {
        var steps = Build("b2", firstExecuted: 4);

        var miss = MissClassifier.Classify(Facts(steps, history: Past(Here, Build("b1"))));

        Assert.Equal("[4/4] RUN cat /d /b > /e", miss!.Step);
        Assert.Equal(MissCause.ContextChanged, miss.Cause);
        Assert.Contains("through [3/4] COPY data.txt /d", miss.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_build_argument_is_a_definition_change_naming_old_and_new_commands()
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 2, v: "2"), history: Past(Here, Build("b1"))));

        Assert.Equal(new FirstMiss("[2/4] RUN echo base-2 > /b", MissCause.DefinitionChanged, "[2/4] changed: RUN echo base-1 > /b → RUN echo base-2 > /b"), miss);
    }

    [Fact]
    public void A_base_image_that_resolves_to_another_digest_is_a_definition_change_of_the_from()
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 1, from: "sha256:9f00"), history: Past(Here, Build("b1"))));

        Assert.Equal(MissCause.DefinitionChanged, miss!.Cause);
        Assert.Equal("[1/4] changed: FROM reg/img:1@sha256:3e39 → FROM reg/img:1@sha256:9f00", miss.Detail);
    }

    [Fact]
    public void The_same_text_with_another_digest_says_an_input_changed()
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 2, run2Digest: "other"), history: Past(Here, Build("b1"))));

        Assert.Equal(MissCause.DefinitionChanged, miss!.Cause);
        Assert.StartsWith("[2/4] RUN echo base-1 > /b has a new digest with the same text", miss.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_step_with_the_digest_it_had_when_cached_here_was_evicted_and_a_later_prune_is_named()
    {
        var prunes = new[] { new PruneRecord(T0.AddMinutes(-30), "an older prune"), new PruneRecord(T0.AddMinutes(-2), "a Prune call through the gateway") };

        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 1), prunes: prunes, history: Past(Here, Build("b1"), 10, "ref-1")));

        Assert.Equal(MissCause.Evicted, miss!.Cause);
        Assert.Equal("same definition as in build ref-1 on builder-1 (2026-12-07 11:50:00Z), whose result was cached then; pruned at 2026-12-07 11:58:00Z by a Prune call through the gateway", miss.Detail);
    }

    [Fact]
    public void Eviction_without_a_known_prune_says_garbage_collection_or_an_unseen_prune()
    {
        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 2), prunes: [new PruneRecord(T0.AddHours(-1), "old")], history: Past(Here, Build("b1", firstExecuted: 2))));

        Assert.Equal(MissCause.Evicted, miss!.Cause);
        Assert.EndsWith("its cache is gone (the daemon's garbage collection, or a prune the gateway did not see)", miss.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_step_that_failed_last_time_is_compared_with_an_earlier_build_that_finished_it()
    {
        var failed = Build("b2", firstExecuted: 2).Select(s => s.Name.StartsWith("[2/4]", StringComparison.Ordinal) ? s with { Failed = true } : s).ToList();

        var onlyFailed = MissClassifier.Classify(Facts(Build("b3", firstExecuted: 2), history: Past(Here, failed, 5)));
        var withEarlier = MissClassifier.Classify(Facts(Build("b3", firstExecuted: 2), history: [Past(Here, failed, 5), Past(Here, Build("b1"), 20)]));

        Assert.Equal(MissCause.Unknown, onlyFailed!.Cause);
        Assert.Equal(MissCause.Evicted, withEarlier!.Cause);
    }

    [Fact]
    public void A_step_new_at_its_position_is_a_definition_change()
    {
        var before = Build("b1").Where(s => !s.Name.StartsWith("[4/4]", StringComparison.Ordinal)).ToList();

        var miss = MissClassifier.Classify(Facts(Build("b2", firstExecuted: 4).Select(s => s with { Inputs = s.Name.StartsWith("[4/4]", StringComparison.Ordinal) ? [] : s.Inputs }).ToList(), history: Past(Here, before)));

        Assert.Equal(MissCause.DefinitionChanged, miss!.Cause);
        Assert.StartsWith("[4/4] is a new step", miss.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Multi_stage_steps_are_compared_within_their_stage()
    {
        StatusVertex V(string name, string digest, bool cached) => new(digest, name, [], cached, T0, T0, false);
        var before = new List<StatusVertex> { V("[build 1/5] FROM reg/golang:1.23", "g", true), V("[build 2/5] RUN apk add git=2.45", "a", true), V("[stage-1 2/2] RUN true", "x", true) };
        var now = new List<StatusVertex> { V("[build 1/5] FROM reg/golang:1.23", "g", true), V("[build 2/5] RUN apk add git=2.46", "b", false), V("[stage-1 2/2] RUN true", "x", false) };

        var miss = MissClassifier.Classify(Facts(now, history: Past(Here, before)));

        Assert.Equal(new FirstMiss("[build 2/5] RUN apk add git=2.46", MissCause.DefinitionChanged, "[build 2/5] changed: RUN apk add git=2.45 → RUN apk add git=2.46"), miss);
    }

    [Fact]
    public void A_vertex_without_a_dockerfile_position_is_unknown()
    {
        var now = new List<StatusVertex> { new("d", "mkfile /x", [], false, T0, T0, false) };

        Assert.Equal(MissCause.Unknown, MissClassifier.Classify(Facts(now, history: Past(Here, now)))!.Cause);
    }

    [Theory]
    [InlineData("[2/4] RUN echo hi", "", 2, 4, "RUN echo hi")]
    [InlineData("[build 3/5] COPY go.mod go.sum ./", "build", 3, 5, "COPY go.mod go.sum ./")]
    [InlineData("[stage-1 2/2] COPY --from=build /app /app", "stage-1", 2, 2, "COPY --from=build /app /app")]
    public void Step_positions_are_read_from_the_frontends_prefix(string name, string stage, int index, int count, string command)
    {
        Assert.True(StepPosition.TryParse(name, out var position));
        Assert.Equal(new StepPosition(stage, index, count, command), position);
    }

    [Theory]
    [InlineData("[internal] load build context")]
    [InlineData("[context shared] load from client")]
    [InlineData("mkfile /x")]
    [InlineData("[2/x] RUN y")]
    public void Names_without_a_step_position_have_none(string name) => Assert.False(StepPosition.TryParse(name, out _));

    [Fact]
    public void Executed_time_sums_the_steps_that_ran_and_leaves_out_cached_ones()
    {
        // Four [internal] steps (context transfer is real time) and [3/4], [4/4]: 2 s each.
        Assert.Equal(TimeSpan.FromSeconds(12), MissClassifier.ExecutedTime(Build("b", firstExecuted: 3)));
    }
}
