using BuildPool.LocalApi.Tests.TestSupport;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

public sealed class PersistenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("localapi-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Objects_and_crds_survive_a_restart_with_a_data_file_and_old_revisions_expire()
    {
        var options = new LocalApiOptions { DataFile = Path.Combine(_dir, "state.json"), CrdDirectory = TestPaths.TestCrdDirectory };
        string oldRevision;
        await using (var first = new LocalApiServer(options))
        {
            await first.StartAsync();
            using var client = first.CreateClient();
            var cm = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "kept" }, Data = new Dictionary<string, string> { ["a"] = "1" } }, "default");
            oldRevision = cm.Metadata.ResourceVersion;
        }

        await using var second = new LocalApiServer(options);
        await second.StartAsync();
        using var again = second.CreateClient();

        var restored = await again.CoreV1.ReadNamespacedConfigMapAsync("kept", "default");
        Assert.Equal("1", restored.Data["a"]);
        Assert.True(second.ResourceVersion > long.Parse(oldRevision, System.Globalization.CultureInfo.InvariantCulture));
        await using var watch = await RawWatch.OpenAsync(second.BaseAddress, $"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={oldRevision}");
        await Eventually.TrueAsync(() => watch.Ended, "a watch from before the restart is told to relist");
        Assert.Equal(["ERROR"], watch.Types);
    }
}
