using System.Text.RegularExpressions;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Volumes;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Host.Tests.Docs;

/// <summary>
/// The Pod Security level the docs say each piece needs, against the pods the operator really
/// creates, judged by the checks of the Pod Security Standards that those pods can touch.
/// </summary>
public sealed partial class PodSecurityDocsTests
{
    private static readonly string[] Levels = ["restricted", "baseline", "privileged"];

    // The least permissive level that admits the pod.
    private static string LevelOf(V1PodSpec pod)
    {
        var containers = pod.Containers.Concat(pod.InitContainers ?? []).ToList();
        string? Seccomp(V1Container c) => c.SecurityContext?.SeccompProfile?.Type ?? pod.SecurityContext?.SeccompProfile?.Type;
        string? AppArmor(V1Container c) => c.SecurityContext?.AppArmorProfile?.Type ?? pod.SecurityContext?.AppArmorProfile?.Type;
        var baselineViolated = pod.HostNetwork == true || pod.HostPID == true || pod.HostIPC == true
            || (pod.Volumes ?? []).Any(v => v.HostPath is not null)
            || containers.Any(c => c.SecurityContext?.Privileged == true
                || Seccomp(c) == "Unconfined" || AppArmor(c) == "Unconfined"
                || (c.SecurityContext?.Capabilities?.Add ?? []).Any());
        if (baselineViolated)
        {
            return "privileged";
        }

        var restrictedViolated = containers.Any(c => c.SecurityContext?.AllowPrivilegeEscalation != false
            || (c.SecurityContext?.RunAsNonRoot ?? pod.SecurityContext?.RunAsNonRoot) != true
            || !(c.SecurityContext?.Capabilities?.Drop ?? []).Contains("ALL")
            || Seccomp(c) is not ("RuntimeDefault" or "Localhost"));
        return restrictedViolated ? "baseline" : "restricted";
    }

    private static BuilderPool Pool(SecurityProfile profile) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "builds", Uid = "u" },
        Spec = new BuilderPoolSpec { Builder = new BuilderSpec { SecurityProfile = profile } },
    };

    private static V1PodSpec BuilderPod(SecurityProfile profile)
    {
        var volume = new CacheVolume { Metadata = new V1ObjectMeta { Name = "ci-0", NamespaceProperty = "builds", Uid = "v" }, Spec = new CacheVolumeSpec { Pool = "ci" } };
        return BuilderChildrenPlanner.Plan(volume, Pool(profile), "", running: true).Builder.Spec.Template.Spec;
    }

    private static string Page(string name) => File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", name));

    [Theory]
    [InlineData(SecurityProfile.Rootless)]
    [InlineData(SecurityProfile.UserNamespace)]
    [InlineData(SecurityProfile.Privileged)]
    public void Security_md_names_the_level_each_builder_profile_really_needs(SecurityProfile profile)
    {
        var row = TableRow(Page("security.md"), $"builders, `securityProfile: {profile}`");

        Assert.Equal(LevelOf(BuilderPod(profile)), LastLevel(row));
    }

    [Fact]
    public void Security_md_names_the_level_the_gateway_really_needs()
    {
        var gateway = BuilderPoolPlanner.Plan(Pool(SecurityProfile.Rootless), new OperatorOptions()).Gateway.Spec.Template.Spec;

        Assert.Equal(LevelOf(gateway), LastLevel(TableRow(Page("security.md"), "gateway (per pool)")));
    }

    [Theory]
    [InlineData(SecurityProfile.Rootless)]
    [InlineData(SecurityProfile.UserNamespace)]
    [InlineData(SecurityProfile.Privileged)]
    public void Choosing_modes_md_asks_each_profile_for_the_level_it_needs_and_never_for_a_weaker_one(SecurityProfile profile)
    {
        var needed = LevelOf(BuilderPod(profile));
        var row = TableRow(Page("choosing-modes.md"), $"`{profile}`");

        Assert.Contains($"must enforce `{needed}`", row, StringComparison.Ordinal);
        Assert.DoesNotMatch($"(use|enough|suffices?)[^|]*`({string.Join('|', Levels.TakeWhile(l => l != needed))})`", row);
    }

    private static string TableRow(string page, string firstCell) =>
        page.Split('\n').SingleOrDefault(l => l.StartsWith($"| {firstCell}", StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"no table row starting with '| {firstCell}'");

    private static string LastLevel(string row) => LevelWord().Matches(row).Last().Groups[1].Value;

    [GeneratedRegex("`(restricted|baseline|privileged)`")]
    private static partial Regex LevelWord();
}
