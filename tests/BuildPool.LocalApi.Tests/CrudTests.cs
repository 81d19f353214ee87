using System.Net;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Tests.TestSupport;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

public sealed class CrudTests : ServerTest
{
    [Fact]
    public async Task Config_map_round_trips_through_create_get_list_replace_patch_and_delete()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings", Labels = new Dictionary<string, string> { ["app"] = "x" } }, Data = new Dictionary<string, string> { ["a"] = "1" } },
            Ns);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.Equal(Ns, created.Metadata.NamespaceProperty);

        var fetched = await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", Ns);
        Assert.Equal("1", fetched.Data["a"]);

        fetched.Data["a"] = "2";
        var replaced = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(fetched, "settings", Ns);
        Assert.True(long.Parse(replaced.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(created.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture));

        var patched = await Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("{\"data\":{\"b\":\"3\"}}", V1Patch.PatchType.MergePatch), "settings", Ns);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "2", ["b"] = "3" }, patched.Data);

        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(Ns);
        Assert.Equal(["settings"], list.Items.Select(i => i.Metadata.Name));
        var everywhere = await Client.CoreV1.ListConfigMapForAllNamespacesAsync();
        Assert.Single(everywhere.Items);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("settings", Ns);
        Assert.Empty((await Client.CoreV1.ListNamespacedConfigMapAsync(Ns)).Items);
    }

    [Fact]
    public async Task Custom_object_round_trips_and_gets_defaults_from_the_schema()
    {
        var created = await CreatePoolAsync(Pool("alpha", replicas: 2));
        Assert.Equal("Rootless", Str(created["spec"]!["builder"]!["securityProfile"]));
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<long>());

        var fetched = await GetPoolAsync("alpha");
        Assert.Equal(2, fetched["spec"]!["replicas"]!.GetValue<int>());

        fetched["spec"]!["replicas"] = 3;
        var replaced = Json(await Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(fetched, Group, Version, Ns, Plural, "alpha"));
        Assert.Equal(3, replaced["spec"]!["replicas"]!.GetValue<int>());

        var patched = Json(await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("{\"spec\":{\"replicas\":4}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "alpha"));
        Assert.Equal(4, patched["spec"]!["replicas"]!.GetValue<int>());

        var jsonPatched = Json(await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":5}]", V1Patch.PatchType.JsonPatch), Group, Version, Ns, Plural, "alpha"));
        Assert.Equal(5, jsonPatched["spec"]!["replicas"]!.GetValue<int>());

        var list = Json(await Client.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, Ns, Plural));
        Assert.Equal("BuilderPoolList", Str(list["kind"]));
        Assert.Single(list["items"]!.AsArray());

        await Client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, Ns, Plural, "alpha");
        var (code, _) = await FailureAsync(() => GetPoolAsync("alpha"));
        Assert.Equal(HttpStatusCode.NotFound, code);
    }

    [Fact]
    public async Task Update_with_a_stale_resource_version_is_a_conflict_with_a_status_body()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "c" } }, Ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"x\":\"1\"}}", V1Patch.PatchType.MergePatch), "c", Ns);

        created.Data = new Dictionary<string, string> { ["y"] = "2" };
        var (code, status) = await FailureAsync(() => Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "c", Ns));

        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("Status", Str(status["kind"]));
        Assert.Equal("Failure", Str(status["status"]));
        Assert.Equal("Conflict", Str(status["reason"]));
        Assert.Equal(409, status["code"]!.GetValue<int>());
        Assert.Equal("Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again", Str(status["message"]));
    }

    [Fact]
    public async Task Merge_patch_carrying_a_stale_resource_version_is_a_conflict()
    {
        var created = await CreatePoolAsync(Pool("p"));
        var staleRv = Str(created["metadata"]!["resourceVersion"]);
        await Client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch("{\"spec\":{\"replicas\":2}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "p");

        var (code, status) = await FailureAsync(() => Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch($"{{\"metadata\":{{\"resourceVersion\":\"{staleRv}\"}},\"spec\":{{\"replicas\":3}}}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "p"));

        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("Operation cannot be fulfilled on builderpools.test.buildpool.dev \"p\": the object has been modified; please apply your changes to the latest version and try again", Str(status["message"]));
    }

    [Fact]
    public async Task Creating_an_existing_name_is_already_exists()
    {
        await CreatePoolAsync(Pool("dup"));

        var (code, status) = await FailureAsync(() => CreatePoolAsync(Pool("dup")));

        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("AlreadyExists", Str(status["reason"]));
        Assert.Equal("builderpools.test.buildpool.dev \"dup\" already exists", Str(status["message"]));
        Assert.Equal("dup", Str(status["details"]!["name"]));
        Assert.Equal(Group, Str(status["details"]!["group"]));
        Assert.Equal("builderpools", Str(status["details"]!["kind"]));
    }

    [Fact]
    public async Task Missing_objects_get_the_api_servers_not_found_body()
    {
        var (code, status) = await FailureAsync(() => GetPoolAsync("ghost"));
        Assert.Equal(HttpStatusCode.NotFound, code);
        var expected = JsonNode.Parse(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"builderpools.test.buildpool.dev \"ghost\" not found","reason":"NotFound","details":{"name":"ghost","group":"test.buildpool.dev","kind":"builderpools"},"code":404}""");
        Assert.True(JsonNode.DeepEquals(expected, status), status.ToJsonString());

        var (cmCode, cmStatus) = await FailureAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("ghost", Ns));
        Assert.Equal(HttpStatusCode.NotFound, cmCode);
        Assert.Equal("configmaps \"ghost\" not found", Str(cmStatus["message"]));
        Assert.Null(cmStatus["details"]!["group"]);
    }

    [Fact]
    public async Task Generation_is_bumped_by_spec_changes_only()
    {
        await CreatePoolAsync(Pool("g"));

        var labelled = Json(await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "g"));
        Assert.Equal(1, labelled["metadata"]!["generation"]!.GetValue<long>());

        var withStatus = Json(await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("{\"status\":{\"readyReplicas\":1}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "g"));
        Assert.Equal(1, withStatus["metadata"]!["generation"]!.GetValue<long>());

        var respec = Json(await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("{\"spec\":{\"replicas\":9}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "g"));
        Assert.Equal(2, respec["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task No_op_write_keeps_the_resource_version()
    {
        var created = await CreatePoolAsync(Pool("same", replicas: 2));

        var patched = Json(await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("{\"spec\":{\"replicas\":2}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "same"));

        Assert.Equal(Str(created["metadata"]!["resourceVersion"]), Str(patched["metadata"]!["resourceVersion"]));
    }

    [Fact]
    public async Task Status_subresource_isolates_status_from_spec_writes()
    {
        await CreatePoolAsync(Pool("s"));

        // A write to the main resource cannot set status...
        var main = Json(await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("{\"spec\":{\"replicas\":2},\"status\":{\"readyReplicas\":7}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "s"));
        Assert.Equal(2, main["spec"]!["replicas"]!.GetValue<int>());
        Assert.Null(main["status"]);

        // ...and a write to /status cannot change spec.
        var status = Json(await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("{\"spec\":{\"replicas\":5},\"status\":{\"readyReplicas\":2}}", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "s"));
        Assert.Equal(2, status["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(2, status["status"]!["readyReplicas"]!.GetValue<int>());

        // Status sent on create is dropped, as the real server does with a status subresource.
        var withStatus = Pool("s2");
        withStatus["status"] = new JsonObject { ["readyReplicas"] = 3 };
        Assert.Null((await CreatePoolAsync(withStatus))["status"]);
    }

    [Fact]
    public async Task Generate_name_appends_a_random_suffix()
    {
        var cm = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "job-" } }, Ns);

        Assert.StartsWith("job-", cm.Metadata.Name, StringComparison.Ordinal);
        Assert.Equal(9, cm.Metadata.Name.Length);
    }

    [Fact]
    public async Task Creating_in_a_missing_namespace_is_not_found()
    {
        var (code, status) = await FailureAsync(() => Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "x" } }, "nowhere"));

        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal("namespaces \"nowhere\" not found", Str(status["message"]));
    }

    [Fact]
    public async Task Strategic_merge_patch_merges_containers_by_name()
    {
        var deployment = new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "d" },
            Spec = new V1DeploymentSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "d" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "d" } },
                    Spec = new V1PodSpec
                    {
                        Containers =
                        [
                            new V1Container { Name = "app", Image = "app:1", Env = [new V1EnvVar { Name = "A", Value = "1" }] },
                            new V1Container { Name = "sidecar", Image = "side:1" },
                        ],
                    },
                },
            },
        };
        await Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, Ns);

        var patched = await Client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2","env":[{"name":"B","value":"2"}]}]}}}}""", V1Patch.PatchType.StrategicMergePatch),
            "d",
            Ns);

        var containers = patched.Spec.Template.Spec.Containers;
        Assert.Equal(["app", "sidecar"], containers.Select(c => c.Name));
        Assert.Equal("app:2", containers[0].Image);
        Assert.Equal(["A", "B"], containers[0].Env.Select(e => e.Name));
        Assert.Equal(2, patched.Metadata.Generation);
    }

    [Fact]
    public async Task Strategic_merge_patch_is_unsupported_media_type_for_custom_resources()
    {
        await CreatePoolAsync(Pool("smp"));

        var (code, _) = await FailureAsync(() => Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("{\"spec\":{\"replicas\":2}}", V1Patch.PatchType.StrategicMergePatch), Group, Version, Ns, Plural, "smp"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, code);
    }

    [Fact]
    public async Task List_pages_with_limit_and_continue()
    {
        for (var i = 0; i < 5; i++)
        {
            await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = $"cm{i}" } }, Ns);
        }

        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await Client.CoreV1.ListNamespacedConfigMapAsync(Ns, limit: 2, continueParameter: token);
            Assert.True(page.Items.Count <= 2);
            names.AddRange(page.Items.Select(i => i.Metadata.Name));
            token = page.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(token));

        Assert.Equal(["cm0", "cm1", "cm2", "cm3", "cm4"], names);
    }
}
