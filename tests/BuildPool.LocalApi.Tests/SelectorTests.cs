using BuildPool.LocalApi.Tests.TestSupport;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

public sealed class SelectorTests : ServerTest
{
    private async Task SeedAsync()
    {
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "other" } });
        async Task Make(string name, string ns, Dictionary<string, string> labels) =>
            await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = labels } }, ns);
        await Make("web-prod", Ns, new() { ["app"] = "web", ["env"] = "prod" });
        await Make("web-dev", Ns, new() { ["app"] = "web", ["env"] = "dev" });
        await Make("db-prod", Ns, new() { ["app"] = "db", ["env"] = "prod", ["tier"] = "data" });
        await Make("bare", Ns, []);
        await Make("web-other", "other", new() { ["app"] = "web", ["env"] = "prod" });
    }

    [Theory]
    [InlineData("app=web", "web-dev,web-prod")]
    [InlineData("app==web,env=prod", "web-prod")]
    [InlineData("app!=web", "bare,db-prod")]
    [InlineData("env in (dev, prod),app notin (db)", "web-dev,web-prod")]
    [InlineData("env notin (prod)", "bare,web-dev")]
    [InlineData("tier", "db-prod")]
    [InlineData("!tier", "bare,web-dev,web-prod")]
    public async Task Label_selectors_filter_lists(string selector, string expected)
    {
        await SeedAsync();

        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(Ns, labelSelector: selector);

        Assert.Equal(expected, string.Join(',', list.Items.Select(i => i.Metadata.Name).Order(StringComparer.Ordinal)));
    }

    [Theory]
    [InlineData("metadata.name=web-prod", "default/web-prod")]
    [InlineData("metadata.namespace=other", "other/web-other")]
    [InlineData("metadata.namespace!=default,metadata.name!=nothing", "other/web-other")]
    public async Task Field_selectors_filter_lists_across_namespaces(string selector, string expected)
    {
        await SeedAsync();

        var list = await Client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: selector);

        Assert.Equal(expected, string.Join(',', list.Items.Select(i => $"{i.Metadata.NamespaceProperty}/{i.Metadata.Name}")));
    }
}
