using System.Net.Http.Json;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Tests.TestSupport;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

public sealed class DiscoveryTests : ServerTest
{
    private async Task<JsonObject> GetJsonAsync(string path)
    {
        using var http = new HttpClient { BaseAddress = Server.BaseAddress };
        return (await http.GetFromJsonAsync<JsonObject>(path))!;
    }

    [Fact]
    public async Task Core_and_group_discovery_list_built_in_resources_with_short_names()
    {
        var core = await Client.CoreV1.GetAPIResourcesAsync();
        var configMaps = core.Resources.Single(r => r.Name == "configmaps");
        Assert.True(configMaps.Namespaced);
        Assert.Equal(["cm"], configMaps.ShortNames);
        Assert.Contains("watch", configMaps.Verbs);
        Assert.False(core.Resources.Single(r => r.Name == "namespaces").Namespaced);

        var groups = await Client.Apis.GetAPIVersionsAsync();
        Assert.Contains(groups.Groups, g => g.Name == "apps");
        Assert.Contains(groups.Groups, g => g.Name == "coordination.k8s.io");
        Assert.Contains((await Client.AppsV1.GetAPIResourcesAsync()).Resources, r => r.Name == "deployments/status");
    }

    [Fact]
    public async Task Crds_from_the_directory_are_served_with_names_categories_and_status_subresource()
    {
        var list = await GetJsonAsync($"/apis/{Group}/{Version}");

        var resources = list["resources"]!.AsArray();
        var pool = resources.Single(r => Str(r!["name"]) == Plural)!;
        Assert.Equal("BuilderPool", Str(pool["kind"]));
        Assert.Equal("builderpool", Str(pool["singularName"]));
        Assert.Equal("tbp", Str(pool["shortNames"]![0]));
        Assert.Equal("buildpool", Str(pool["categories"]![0]));
        Assert.Contains(resources, r => Str(r!["name"]) == "builderpools/status");
    }

    [Fact]
    public async Task Creating_a_crd_makes_its_resource_discoverable_and_usable()
    {
        var crd = new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = "widgets.example.com" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = "example.com",
                Scope = "Cluster",
                Names = new V1CustomResourceDefinitionNames { Plural = "widgets", Singular = "widget", Kind = "Widget", ShortNames = ["wg"] },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = "v1",
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation
                        {
                            OpenAPIV3Schema = new V1JSONSchemaProps
                            {
                                Type = "object",
                                Properties = new Dictionary<string, V1JSONSchemaProps>
                                {
                                    ["spec"] = new() { Type = "object", Properties = new Dictionary<string, V1JSONSchemaProps> { ["size"] = new() { Type = "integer" } } },
                                },
                            },
                        },
                    },
                ],
            },
        };

        var created = await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);

        Assert.Contains(created.Status.Conditions, c => c.Type == "Established" && c.Status == "True");
        var groups = await Client.Apis.GetAPIVersionsAsync();
        Assert.Contains(groups.Groups, g => g.Name == "example.com" && g.PreferredVersion.Version == "v1");
        var resources = await GetJsonAsync("/apis/example.com/v1");
        Assert.Equal("wg", Str(resources["resources"]![0]!["shortNames"]![0]));
        Assert.False(resources["resources"]![0]!["namespaced"]!.GetValue<bool>());

        await Client.CustomObjects.CreateClusterCustomObjectAsync(
            new JsonObject { ["apiVersion"] = "example.com/v1", ["kind"] = "Widget", ["metadata"] = new JsonObject { ["name"] = "w1" }, ["spec"] = new JsonObject { ["size"] = 3 } },
            "example.com",
            "v1",
            "widgets");
        var widget = Json(await Client.CustomObjects.GetClusterCustomObjectAsync("example.com", "v1", "widgets", "w1"));
        Assert.Equal(3, widget["spec"]!["size"]!.GetValue<int>());
    }

    [Fact]
    public async Task Version_and_openapi_v3_are_served()
    {
        var version = await Client.Version.GetCodeAsync();
        Assert.Equal("1", version.Major);

        var root = await GetJsonAsync("/openapi/v3");
        var url = Str(root["paths"]![$"apis/{Group}/{Version}"]!["serverRelativeURL"])!;
        var doc = await GetJsonAsync(url);
        Assert.NotNull(doc["components"]!["schemas"]![$"dev.buildpool.test.{Version}.BuilderPool"]);
    }

    [Fact]
    public async Task Table_requests_get_printer_columns()
    {
        await CreatePoolAsync(Pool("t", replicas: 3));
        using var http = new HttpClient { BaseAddress = Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/apis/{Group}/{Version}/namespaces/default/{Plural}");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");

        using var response = await http.SendAsync(request);
        var table = (await response.Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal("Table", Str(table["kind"]));
        Assert.Equal(["Name", "Replicas", "Profile", "Ready", "Age"], table["columnDefinitions"]!.AsArray().Select(c => Str(c!["name"])));
        var cells = table["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("t", Str(cells[0]));
        Assert.Equal(3, cells[1]!.GetValue<int>());
        Assert.Equal("Rootless", Str(cells[2]));
    }

    [Fact]
    public async Task A_server_set_to_an_old_version_reports_it_and_serves_what_that_version_served()
    {
        await using var old = new LocalApiServer(new LocalApiOptions { KubernetesVersion = new Version(1, 20, 2) });
        await old.StartAsync();
        using var client = old.CreateClient();

        var version = await client.Version.GetCodeAsync();
        Assert.Equal(("1", "20"), (version.Major, version.Minor));
        Assert.StartsWith("v1.20.2", version.GitVersion, StringComparison.Ordinal);
        var policy = await client.Apis.GetAPIVersionsAsync();
        Assert.Equal(["policy/v1beta1"], policy.Groups.Single(g => g.Name == "policy").Versions.Select(v => v.GroupVersion));
        using var http = new HttpClient { BaseAddress = old.BaseAddress };
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/apis/policy/v1")).StatusCode);
    }
}
