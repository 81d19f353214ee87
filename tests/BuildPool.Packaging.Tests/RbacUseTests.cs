using System.Text.Json.Nodes;
using BuildPool.Operator.Hosting;

namespace BuildPool.Packaging.Tests;

public sealed class RbacUseTests
{
    /// <summary>Group and plural of everything the operator calls; VolumeSnapshots are optional, so the version gate leaves them out.</summary>
    private static readonly HashSet<(string Group, string Plural)> Used =
    [
        .. ClusterRequirements.BuiltIn.Concat(ClusterRequirements.Custom).Select(r => (r.Group, r.Plural)),
        ("snapshot.storage.k8s.io", "volumesnapshots"),
    ];

    [Fact]
    public void The_operator_role_grants_nothing_the_operator_does_not_call()
    {
        var role = YamlJson.Load(File.ReadAllText(Path.Combine(ChartPaths.Config, "rbac", "role.yaml")))!;
        var granted = role["rules"]!.AsArray().OfType<JsonObject>()
            .SelectMany(rule => rule["apiGroups"]!.AsArray().SelectMany(g => rule["resources"]!.AsArray()
                .Select(r => (Group: g!.GetValue<string>(), Plural: r!.GetValue<string>().Split('/')[0]))))
            .ToList();

        Assert.NotEmpty(granted);
        Assert.All(granted, g => Assert.True(Used.Contains(g), $"config/rbac/role.yaml grants {g.Group}/{g.Plural}, which the operator never calls"));
    }
}
