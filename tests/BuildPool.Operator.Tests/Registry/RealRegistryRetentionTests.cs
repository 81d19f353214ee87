using BuildPool.Operator.Registry;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>Retention against Debian's docker-registry: caches pushed through the API, pruned exactly per the limits.</summary>
public sealed class RealRegistryRetentionTests
{
    private const long Ki = 1024;
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Seven cache tags and one tag retention must not touch (latest: not of the template's shape):
    /// ages 1-4 h and 15-30 days, 8-64 KiB, and two tags on one manifest.
    /// </summary>
    private static async Task<Dictionary<string, TestCache>> SeedAsync(RealRegistry registry)
    {
        var caches = new Dictionary<string, TestCache>
        {
            ["cache-a"] = TestCache.Create(Now.AddHours(-1), [16 * 1024], seed: 1),
            ["cache-b"] = TestCache.Create(Now.AddHours(-2), [16 * 1024, 16 * 1024], seed: 2),
            ["cache-c"] = TestCache.Create(Now.AddHours(-3), [64 * 1024], seed: 3),
            ["cache-d"] = TestCache.Create(Now.AddHours(-4), [8 * 1024], seed: 4),
            ["cache-e"] = TestCache.Create(Now.AddDays(-15), [8 * 1024], seed: 5),
            ["cache-f"] = TestCache.Create(Now.AddDays(-30), [32 * 1024], seed: 6),
            ["latest"] = TestCache.Create(Now.AddDays(-90), [8 * 1024], seed: 7),
        };
        caches["cache-g"] = caches["cache-e"];

        using var http = registry.CreatePushClient();
        foreach (var (tag, cache) in caches)
        {
            await RegistryPusher.PushAsync(http, "cache/app", tag, cache);
        }

        return caches;
    }

    private static RegistryClient Client(RealRegistry registry, string? password = null) =>
        new(new Uri($"http://{registry.Host}"), registry.Auth is null ? null : new RegistryCredentials(registry.Auth.User, password ?? registry.Auth.Password));

    private static CacheRef Template(RealRegistry registry) =>
        CacheRef.TryParse($"{registry.Host}/cache/app:cache-{{key}}", out var parsed, out var error) ? parsed : throw new InvalidOperationException(error);

    private static async Task<IReadOnlyList<string>> TagsAsync(RealRegistry registry)
    {
        using var client = Client(registry);
        return (await client.ListTagsAsync("cache/app")).Order(StringComparer.Ordinal).ToList();
    }

    [RegistryFact]
    public async Task Age_count_and_size_limits_leave_exactly_the_expected_tags()
    {
        await using var registry = await RealRegistry.StartAsync();
        var caches = await SeedAsync(registry);
        using var client = Client(registry);

        // maxAge 336h takes e, g (one manifest) and f; maxTags 3 of the remaining a-d takes d;
        // maxBytes 100Ki: a (16Ki) + b (32Ki) + c (64Ki) plus configs is over, so c, the oldest, goes too.
        var result = await new RegistryGc(client, new FakeTimeProvider(Now)).RunAsync(
            Template(registry), new RetentionLimits(TimeSpan.FromHours(336), 3, 100 * Ki), dryRun: false, deleted: null, CancellationToken.None);

        Assert.Equal(["cache-a", "cache-b", "latest"], await TagsAsync(registry));
        Assert.Equal(["cache-f", "cache-e", "cache-g", "cache-d", "cache-c"], result.Deleted.Select(d => d.Tag.Tag));
        Assert.Equal(2, result.TagsAfter);
        Assert.Equal(new[] { "cache-c", "cache-d", "cache-e", "cache-f" }.Sum(t => caches[t].Bytes), result.FreedBytes);
        foreach (var gone in new[] { "cache-c", "cache-d", "cache-e", "cache-f" })
        {
            Assert.Null(await client.GetManifestAsync("cache/app", caches[gone].Digest));
        }
    }

    [RegistryFact]
    public async Task Only_tags_of_the_template_shape_are_candidates()
    {
        await using var registry = await RealRegistry.StartAsync();
        await SeedAsync(registry);
        using var client = Client(registry);

        var result = await new RegistryGc(client, new FakeTimeProvider(Now)).RunAsync(
            Template(registry), new RetentionLimits(MaxAge: TimeSpan.FromHours(24 * 60)), dryRun: false, deleted: null, CancellationToken.None);

        Assert.Empty(result.Deleted);
        Assert.Contains("latest", await TagsAsync(registry));
    }

    [RegistryFact]
    public async Task Dry_run_prints_what_would_go_and_deletes_nothing()
    {
        await using var registry = await RealRegistry.StartAsync();
        await SeedAsync(registry);
        var before = await TagsAsync(registry);
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await RegistryGcRunner.RunAsync(
            new RegistryGcRequest($"{registry.Host}/cache/app:cache-{{key}}", MaxAge: "336h", DryRun: true), output, error, new FakeTimeProvider(Now), CancellationToken.None);

        Assert.True(code == 0, error.ToString());
        Assert.Equal(before, await TagsAsync(registry));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith($"would delete {registry.Host}/cache/app:cache-f sha256:", lines[0], StringComparison.Ordinal);
        Assert.Contains("older than 336h", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("dry run: would delete 3 of 7 cache tags", lines[3], StringComparison.Ordinal);
    }

    [RegistryFact]
    public async Task The_command_deletes_every_tag_of_a_plain_repository_past_the_limits_and_sums_up()
    {
        await using var registry = await RealRegistry.StartAsync();
        await SeedAsync(registry);
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await RegistryGcRunner.RunAsync(
            new RegistryGcRequest($"{registry.Host}/cache/app", MaxTags: 2), output, error, new FakeTimeProvider(Now), CancellationToken.None);

        Assert.True(code == 0, error.ToString());
        Assert.Equal(["cache-a", "cache-b"], await TagsAsync(registry));
        var text = output.ToString();
        Assert.Contains($"deleted {registry.Host}/cache/app:latest ", text, StringComparison.Ordinal);
        Assert.Contains("deleted 6 of 8 cache tags under", text, StringComparison.Ordinal);
        Assert.Contains("2 tags", text, StringComparison.Ordinal);
    }

    [RegistryFact]
    public async Task A_registry_without_deletes_fails_the_command_with_DeleteDisabled()
    {
        await using var registry = await RealRegistry.StartAsync(deleteEnabled: false);
        await SeedAsync(registry);
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await RegistryGcRunner.RunAsync(
            new RegistryGcRequest($"{registry.Host}/cache/app", MaxTags: 1), output, error, new FakeTimeProvider(Now), CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Contains("DeleteDisabled", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("REGISTRY_STORAGE_DELETE_ENABLED=true", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(8, (await TagsAsync(registry)).Count);
    }

    [RegistryFact(needsHtpasswd: true)]
    public async Task With_htpasswd_auth_the_right_password_works_and_a_wrong_one_is_Unauthorized()
    {
        await using var registry = await RealRegistry.StartAsync(auth: new RegistryAuthForTests("ci", "correct-horse"));
        await SeedAsync(registry);

        using (var good = Client(registry))
        {
            var inventory = await new RegistryGc(good, new FakeTimeProvider(Now)).InventoryAsync(Template(registry), CancellationToken.None);
            Assert.Equal(7, inventory.Tags.Count);
        }

        using var bad = Client(registry, password: "wrong");
        var ex = await Assert.ThrowsAsync<RegistryException>(() => bad.PingAsync());
        Assert.Equal(RegistryErrorKind.Unauthorized, ex.Kind);
        Assert.Contains("401", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--ref", "not a ref")]
    [InlineData("maxAge", "2 weeks")]
    [InlineData("none", "")]
    public async Task Bad_input_exits_with_2_without_touching_a_registry(string what, string value)
    {
        var request = what switch
        {
            "--ref" => new RegistryGcRequest(value, MaxTags: 1),
            "maxAge" => new RegistryGcRequest("127.0.0.1:1/cache/app", MaxAge: value),
            _ => new RegistryGcRequest("127.0.0.1:1/cache/app"),
        };
        var error = new StringWriter();
        Assert.Equal(2, await RegistryGcRunner.RunAsync(request, new StringWriter(), error, TimeProvider.System, CancellationToken.None));
        Assert.StartsWith("buildpool registry-gc: ", error.ToString(), StringComparison.Ordinal);
    }
}
