using BuildPool.LocalApi.Tests.TestSupport;
using k8s;
using k8s.Models;

namespace BuildPool.LocalApi.Tests;

public sealed class ManagedFieldsTests : ServerTest
{
    private static V1ConfigMap Map(string value) => new()
    {
        Metadata = new V1ObjectMeta { Name = "settings", NamespaceProperty = Ns },
        Data = new Dictionary<string, string> { ["k"] = value },
    };

    [Fact]
    public async Task Each_writer_is_recorded_under_the_field_manager_it_names()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Map("a"), Ns, fieldManager: "first");
        var updated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(Map("b"), "settings", Ns, fieldManager: "second");

        Assert.Equal(["first", "second"], updated.Metadata.ManagedFields.Select(f => f.Manager));
        Assert.All(updated.Metadata.ManagedFields, f => Assert.Equal(("Update", "v1", "FieldsV1"), (f.Operation, f.ApiVersion, f.FieldsType)));
    }

    [Fact]
    public async Task A_writer_naming_no_manager_is_recorded_by_its_user_agent_and_a_no_op_write_records_nothing()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Map("a"), Ns);
        var again = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(Map("a"), "settings", Ns, fieldManager: "someone-else");

        var manager = Assert.Single(again.Metadata.ManagedFields).Manager;
        Assert.False(string.IsNullOrEmpty(manager));
        Assert.DoesNotContain("/", manager, StringComparison.Ordinal);
    }
}
