using System.Net;
using BuildPool.LocalApi.Tests.TestSupport;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

public sealed class DeletionTests : ServerTest
{
    private async Task<V1ConfigMap> OwnerAsync(string name) =>
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name } }, Ns);

    private async Task<V1Secret> DependentAsync(string name, params V1ConfigMap[] owners) =>
        await Client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret
            {
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    OwnerReferences = owners.Select(o => new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = o.Metadata.Name, Uid = o.Metadata.Uid, BlockOwnerDeletion = true }).ToList(),
                },
            },
            Ns);

    private async Task<bool> ExistsAsync(Func<Task> read)
    {
        try
        {
            await read();
            return true;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    [Fact]
    public async Task Delete_of_an_object_with_finalizers_marks_it_and_removing_the_last_finalizer_deletes_it()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "f", Finalizers = ["example.com/a", "example.com/b"] } }, Ns);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("f", Ns);

        var marked = await Client.CoreV1.ReadNamespacedConfigMapAsync("f", Ns);
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal(0, marked.Metadata.DeletionGracePeriodSeconds);

        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":["example.com/b"]}}""", V1Patch.PatchType.MergePatch), "f", Ns);
        Assert.True(await ExistsAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("f", Ns)));

        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "f", Ns);
        Assert.False(await ExistsAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("f", Ns)));
    }

    [Fact]
    public async Task Custom_object_with_a_finalizer_is_deleted_when_its_controller_removes_the_finalizer()
    {
        var pool = Pool("fin");
        pool["metadata"]!["finalizers"] = new System.Text.Json.Nodes.JsonArray("buildpool.dev/cleanup");
        await CreatePoolAsync(pool);

        var response = Json(await Client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, Ns, Plural, "fin"));
        Assert.NotNull(response["metadata"]!["deletionTimestamp"]);

        var current = await GetPoolAsync("fin");
        current["metadata"]!.AsObject().Remove("finalizers");
        await Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(current, Group, Version, Ns, Plural, "fin");

        Assert.False(await ExistsAsync(() => GetPoolAsync("fin")));
    }

    [Fact]
    public async Task Background_deletion_removes_dependents_whose_owners_are_all_gone()
    {
        var a = await OwnerAsync("a");
        var b = await OwnerAsync("b");
        await DependentAsync("only-a", a);
        await DependentAsync("a-and-b", a, b);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("a", Ns, propagationPolicy: "Background");

        await Eventually.TrueAsync(async () => !await ExistsAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("only-a", Ns)), "the sole dependent is collected");
        Assert.True(await ExistsAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("a-and-b", Ns)));

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("b", Ns);
        await Eventually.TrueAsync(async () => !await ExistsAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("a-and-b", Ns)), "the dependent goes with its last owner");
    }

    [Fact]
    public async Task Deleting_a_dependent_never_deletes_its_live_owner()
    {
        var owner = await OwnerAsync("owner");
        await DependentAsync("dependent", owner);

        await Client.CoreV1.DeleteNamespacedSecretAsync("dependent", Ns, propagationPolicy: "Background");

        Assert.False(await ExistsAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("dependent", Ns)));
        Assert.True(await ExistsAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("owner", Ns)));
    }

    [Fact]
    public async Task An_object_created_for_an_owner_that_is_already_gone_is_collected()
    {
        var owner = await OwnerAsync("short-lived");
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("short-lived", Ns);

        // A controller acting on a stale cache creates a child for it anyway.
        await DependentAsync("late-child", owner);

        await Eventually.TrueAsync(async () => !await ExistsAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("late-child", Ns)), "the orphan is collected");
    }

    [Fact]
    public async Task Orphan_deletion_keeps_dependents_and_strips_the_owner_reference()
    {
        var owner = await OwnerAsync("owner");
        await DependentAsync("child", owner);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", Ns, body: new V1DeleteOptions { PropagationPolicy = "Orphan" });

        Assert.False(await ExistsAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("owner", Ns)));
        var child = await Client.CoreV1.ReadNamespacedSecretAsync("child", Ns);
        Assert.Null(child.Metadata.OwnerReferences);
    }

    [Fact]
    public async Task Foreground_deletion_holds_the_owner_until_dependents_are_gone()
    {
        var owner = await OwnerAsync("owner");
        var child = await Client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret
            {
                Metadata = new V1ObjectMeta
                {
                    Name = "child",
                    Finalizers = ["example.com/hold"],
                    OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Uid = owner.Metadata.Uid, BlockOwnerDeletion = true }],
                },
            },
            Ns);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", Ns, propagationPolicy: "Foreground");

        var waiting = await Client.CoreV1.ReadNamespacedConfigMapAsync("owner", Ns);
        Assert.Contains("foregroundDeletion", waiting.Metadata.Finalizers);
        Assert.NotNull(waiting.Metadata.DeletionTimestamp);
        Assert.NotNull((await Client.CoreV1.ReadNamespacedSecretAsync("child", Ns)).Metadata.DeletionTimestamp);

        await Client.CoreV1.PatchNamespacedSecretAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "child", Ns);

        await Eventually.TrueAsync(async () => !await ExistsAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("owner", Ns)), "the owner goes once its dependent is gone");
    }

    [Fact]
    public async Task Deleting_a_namespace_deletes_its_contents()
    {
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team" } });
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "x" } }, "team");
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Pool("p"), Group, Version, "team", Plural);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "kept" } }, Ns);

        await Client.CoreV1.DeleteNamespaceAsync("team");

        await Eventually.TrueAsync(async () => !await ExistsAsync(() => Client.CoreV1.ReadNamespaceAsync("team")), "the namespace is gone");
        Assert.Empty((await Client.CoreV1.ListNamespacedConfigMapAsync("team")).Items);
        Assert.Single((await Client.CoreV1.ListNamespacedConfigMapAsync(Ns)).Items);
    }

    [Fact]
    public async Task Namespace_with_a_finalizing_object_stays_terminating_and_refuses_new_content()
    {
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "team" } });
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "held", Finalizers = ["example.com/x"] } }, "team");

        await Client.CoreV1.DeleteNamespaceAsync("team");

        var ns = await Client.CoreV1.ReadNamespaceAsync("team");
        Assert.Equal("Terminating", ns.Status.Phase);
        var (code, status) = await FailureAsync(() => Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "late" } }, "team"));
        Assert.Equal(HttpStatusCode.Forbidden, code);
        Assert.Contains("because it is being terminated", Str(status["message"]), StringComparison.Ordinal);

        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "held", "team");
        await Eventually.TrueAsync(async () => !await ExistsAsync(() => Client.CoreV1.ReadNamespaceAsync("team")), "the namespace is gone");
    }

    [Fact]
    public async Task Delete_with_a_mismatched_uid_precondition_is_a_conflict()
    {
        await OwnerAsync("pre");

        var (code, status) = await FailureAsync(() => Client.CoreV1.DeleteNamespacedConfigMapAsync("pre", Ns, body: new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = "not-it" } }));

        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Contains("Precondition failed: UID in precondition: not-it", Str(status["message"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_crd_removes_its_resource_and_objects()
    {
        await CreatePoolAsync(Pool("doomed"));

        await Client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync($"{Plural}.{Group}");

        var (code, _) = await FailureAsync(() => Client.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, Ns, Plural));
        Assert.Equal(HttpStatusCode.NotFound, code);
    }
}
