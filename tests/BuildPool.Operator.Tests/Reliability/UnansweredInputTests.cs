using System.Text;
using System.Text.Json.Nodes;
using BuildPool.Operator.Tests.Integration;
using BuildPool.TestDoubles;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// Invalid resources that the schema accepts: the operator must answer each with a Stalled
/// condition naming the field, not leave it without status.
/// </summary>
public sealed class UnansweredInputTests
{
    private const string Ns = "default";

    [Fact]
    public async Task A_pool_naming_a_cache_target_that_does_not_exist_is_stalled_naming_spec_cacheTargets()
    {
        await using var h = await OperatorHarness.StartAsync();
        var stalled = await CreateAndWaitForStalledAsync(h, "builderpools",
            """{"apiVersion":"buildpool.dev/v1alpha1","kind":"BuilderPool","metadata":{"name":"dangling"},"spec":{"assignment":{"volumes":1},"cacheTargets":[{"name":"no-such-target"}]}}""",
            "dangling");
        Assert.StartsWith("spec.cacheTargets[0].name:", stalled, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_binding_for_a_pool_that_does_not_exist_is_stalled_naming_spec_pool()
    {
        await using var h = await OperatorHarness.StartAsync();
        var stalled = await CreateAndWaitForStalledAsync(h, "secretbindings",
            """{"apiVersion":"buildpool.dev/v1alpha1","kind":"SecretBinding","metadata":{"name":"orphan"},"spec":{"kind":"ClientAccess","pool":"nowhere","clientAccess":{"targetNamespace":"team-a"}}}""",
            "orphan");
        Assert.StartsWith("spec.pool:", stalled, StringComparison.Ordinal);
    }

    private static async Task<string> CreateAndWaitForStalledAsync(OperatorHarness h, string plural, string json, string name)
    {
        using var http = new HttpClient { BaseAddress = h.Server.BaseAddress };
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var created = await http.PostAsync(new Uri($"apis/buildpool.dev/v1alpha1/namespaces/{Ns}/{plural}?fieldValidation=Strict", UriKind.Relative), content);
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        // As long as the other operator tests allow: starting the operator's informers and its
        // first reconcile can take well over 10 s on a loaded machine running every test assembly.
        var condition = await Eventually.WaitAsync(
            async () => (JsonNode.Parse(await http.GetStringAsync(new Uri($"apis/buildpool.dev/v1alpha1/namespaces/{Ns}/{plural}/{name}", UriKind.Relative)))?["status"]?["conditions"] as JsonArray)
                ?.FirstOrDefault(c => c?["type"]?.GetValue<string>() == "Stalled" && c["status"]?.GetValue<string>() == "True"),
            c => c is not null,
            $"{plural}/{name} to be Stalled",
            TimeSpan.FromSeconds(60));
        return condition!["message"]!.GetValue<string>();
    }
}
