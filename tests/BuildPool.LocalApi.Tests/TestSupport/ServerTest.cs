using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;

namespace BuildPool.LocalApi.Tests.TestSupport;

/// <summary>Starts a fresh emulator with the test CRD for every test (xunit creates one instance per test).</summary>
public abstract class ServerTest : IAsyncLifetime
{
    protected const string Group = "test.buildpool.dev";
    protected const string Version = "v1alpha1";
    protected const string Plural = "builderpools";
    protected const string Ns = "default";

    private Kubernetes? _client;

    protected LocalApiServer Server { get; private set; } = null!;

    protected Kubernetes Client => _client ??= Server.CreateClient();

    protected virtual LocalApiOptions Options => new() { CrdDirectory = TestPaths.TestCrdDirectory, RandomSeed = 42 };

    public async Task InitializeAsync()
    {
        Server = new LocalApiServer(Options);
        await Server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        await Server.DisposeAsync();
    }

    protected static JsonObject Pool(string name, int replicas = 1, string image = "moby/buildkit:v0.16", string? profile = null)
    {
        var builder = new JsonObject { ["image"] = image };
        if (profile is not null)
        {
            builder["securityProfile"] = profile;
        }

        return new JsonObject
        {
            ["apiVersion"] = $"{Group}/{Version}",
            ["kind"] = "BuilderPool",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject { ["replicas"] = replicas, ["builder"] = builder },
        };
    }

    protected static JsonObject Json(object? value) => JsonSerializer.SerializeToNode(value)!.AsObject();

    protected async Task<JsonObject> CreatePoolAsync(JsonObject pool, string? fieldValidation = null) =>
        Json(await Client.CustomObjects.CreateNamespacedCustomObjectAsync(pool, Group, Version, Ns, Plural, fieldValidation: fieldValidation));

    protected async Task<JsonObject> GetPoolAsync(string name) =>
        Json(await Client.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, Ns, Plural, name));

    /// <summary>Runs a call that must fail and returns the HTTP status and the v1.Status body.</summary>
    protected static async Task<(HttpStatusCode Code, JsonObject Status)> FailureAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(call);
        return (e.Response.StatusCode, JsonNode.Parse(e.Response.Content)!.AsObject());
    }

    protected static string? Str(JsonNode? node) => node?.GetValue<string>();
}
