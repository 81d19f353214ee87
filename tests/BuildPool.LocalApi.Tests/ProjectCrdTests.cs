using System.Net;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Json;
using BuildPool.LocalApi.Tests.TestSupport;
using k8s;

namespace BuildPool.LocalApi.Tests;

/// <summary>The emulator loaded with the project's real, generated CRDs.</summary>
public sealed class ProjectCrdTests : ServerTest
{
    private const string ProjectGroup = "buildpool.dev";
    private const string ProjectVersion = "v1alpha1";

    protected override LocalApiOptions Options => new() { CrdDirectory = ProjectCrdTestsPaths.Crds, RandomSeed = 7 };

    private static JsonObject ValidPool(string name) => new()
    {
        ["apiVersion"] = $"{ProjectGroup}/{ProjectVersion}",
        ["kind"] = "BuilderPool",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject(),
    };

    [ProjectCrdFact]
    public async Task Project_crds_are_served_with_their_short_names()
    {
        var resources = await Client.CustomObjects.ListNamespacedCustomObjectAsync(ProjectGroup, ProjectVersion, Ns, "builderpools");
        Assert.NotNull(resources);

        using var http = new HttpClient { BaseAddress = Server.BaseAddress };
        var list = JsonNode.Parse(await http.GetStringAsync($"/apis/{ProjectGroup}/{ProjectVersion}"))!;
        var pools = list["resources"]!.AsArray().Single(r => Str(r!["name"]) == "builderpools")!;
        Assert.Equal("bp", Str(pools["shortNames"]![0]));
    }

    [ProjectCrdFact]
    public async Task Every_sample_is_accepted_under_strict_field_validation()
    {
        var samples = ProjectCrdTestsPaths.Samples;
        Assert.NotNull(samples);
        foreach (var file in Directory.EnumerateFiles(samples, "*.yaml"))
        {
            foreach (var doc in YamlJson.ParseDocuments(await File.ReadAllTextAsync(file)).OfType<JsonObject>())
            {
                var plural = Str(doc["kind"])!.ToLowerInvariant() + "s";
                doc["metadata"]!["name"] = $"{Str(doc["metadata"]!["name"])}-{Path.GetFileNameWithoutExtension(file).Replace('_', '-')}";
                await Client.CustomObjects.CreateNamespacedCustomObjectAsync(doc, ProjectGroup, ProjectVersion, Ns, plural, fieldValidation: "Strict");
            }
        }
    }

    [ProjectCrdFact]
    public async Task Defaults_from_the_generated_schema_are_applied()
    {
        var created = Json(await Client.CustomObjects.CreateNamespacedCustomObjectAsync(ValidPool("defaults"), ProjectGroup, ProjectVersion, Ns, "builderpools"));

        Assert.Equal("Hashed", Str(created["spec"]!["assignment"]!["mode"]));
        Assert.Equal(4, created["spec"]!["assignment"]!["volumes"]!.GetValue<int>());
    }

    [ProjectCrdFact]
    public async Task Invalid_builder_pool_is_rejected_naming_each_field()
    {
        var pool = ValidPool("bad");
        pool["spec"]!["assignment"] = new JsonObject { ["mode"] = "Sticky", ["volumes"] = 0 };

        var (code, status) = await FailureAsync(() => Client.CustomObjects.CreateNamespacedCustomObjectAsync(pool, ProjectGroup, ProjectVersion, Ns, "builderpools"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        var message = Str(status["message"])!;
        Assert.StartsWith("BuilderPool.buildpool.dev \"bad\" is invalid: [", message, StringComparison.Ordinal);
        Assert.Contains("spec.assignment.mode: Unsupported value: \"Sticky\": supported values: \"Hashed\", \"Dedicated\"", message, StringComparison.Ordinal);
        Assert.Contains("spec.assignment.volumes: Invalid value: 0: spec.assignment.volumes in body should be greater than or equal to 1", message, StringComparison.Ordinal);
        Assert.Equal(
            ["spec.assignment.mode", "spec.assignment.volumes"],
            status["details"]!["causes"]!.AsArray().Select(c => Str(c!["field"])).Order(StringComparer.Ordinal));
    }
}
