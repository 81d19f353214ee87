using System.Net;
using BuildPool.LocalApi.Tests.TestSupport;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

public sealed class FaultInjectionTests : ServerTest
{
    private const int Attempts = 400;

    private async Task<int> CountFailuresAsync(HttpStatusCode expected, Func<int, Task> call)
    {
        var failures = 0;
        for (var i = 0; i < Attempts; i++)
        {
            try
            {
                await call(i);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == expected)
            {
                failures++;
            }
        }

        return failures;
    }

    [Fact]
    public async Task Conflict_rate_roughly_holds_for_writes_and_spares_reads()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "c" } }, Ns);
        Server.Faults.ConflictRate = 0.3;

        var conflicts = await CountFailuresAsync(HttpStatusCode.Conflict, i =>
            Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch($"{{\"data\":{{\"i\":\"{i}\"}}}}", V1Patch.PatchType.MergePatch), "c", Ns));
        var readFailures = await CountFailuresAsync(HttpStatusCode.Conflict, _ => Client.CoreV1.ReadNamespacedConfigMapAsync("c", Ns));

        Assert.InRange(conflicts, Attempts * 0.2, Attempts * 0.4);
        Assert.Equal(0, readFailures);
        Assert.Equal(conflicts, Server.Faults.InjectedConflicts);
    }

    [Fact]
    public async Task A_forbidden_verb_and_resource_answer_403_as_rbac_does_are_counted_and_spare_the_rest()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "c" } }, Ns);
        Server.Faults.Forbidden[("patch", "configmaps")] = true;
        Server.Stats.Reset();

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"a\":\"b\"}}", V1Patch.PatchType.MergePatch), "c", Ns));
        var read = await Client.CoreV1.ReadNamespacedConfigMapAsync("c", Ns);
        await Client.CoreV1.ReplaceNamespacedConfigMapAsync(read, "c", Ns);

        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        var status = KubernetesJson.Deserialize<V1Status>(refused.Response.Content);
        Assert.Equal(("Forbidden", 403), (status.Reason, status.Code));
        Assert.StartsWith("configmaps \"c\" is forbidden: User ", status.Message, StringComparison.Ordinal);
        Assert.EndsWith("cannot patch resource \"configmaps\" in API group \"\" in the namespace \"default\"", status.Message, StringComparison.Ordinal);
        Assert.Null(read.Data);
        Assert.Equal(1, Server.Faults.InjectedForbidden);
        Assert.Equal(1, Server.Stats.Count("patch", "configmaps"));

        Server.Faults.Forbidden.Clear();
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"a\":\"b\"}}", V1Patch.PatchType.MergePatch), "c", Ns);
        Assert.Equal(1, Server.Faults.InjectedForbidden);
    }

    [Fact]
    public async Task Server_error_rate_roughly_holds_and_bodies_are_statuses()
    {
        Server.Faults.ServerErrorRate = 0.05;

        var errors = await CountFailuresAsync(HttpStatusCode.InternalServerError, _ => Client.CoreV1.ListNamespacedConfigMapAsync(Ns));

        Assert.InRange(errors, Attempts * 0.01, Attempts * 0.1);
        Server.Faults.Clear();
        await Client.CoreV1.ListNamespacedConfigMapAsync(Ns);
    }

    [Fact]
    public async Task Stats_count_requests_by_verb_and_resource()
    {
        await CreatePoolAsync(Pool("s"));
        Server.Stats.Reset();

        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch("""{"status":{"readyReplicas":1}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "s");
        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch("""{"status":{"readyReplicas":2}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "s");
        await GetPoolAsync("s");

        Assert.Equal(2, Server.Stats.Count("patch", "builderpools/status"));
        Assert.Equal(2, Server.Stats.Writes("builderpools/status"));
        Assert.Equal(0, Server.Stats.Writes("builderpools"));
        Assert.Equal(1, Server.Stats.Count("get", "builderpools"));
        Assert.Equal(2, Server.Stats.TotalWrites);
    }
}
