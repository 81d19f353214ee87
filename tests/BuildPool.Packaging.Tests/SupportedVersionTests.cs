using System.Text.RegularExpressions;
using BuildPool.Api.Schema;
using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

public sealed partial class SupportedVersionTests
{
    private static string Read(params string[] path) => File.ReadAllText(Path.Combine([RepositoryPaths.Root, .. path]));

    [Fact]
    public void The_chart_requires_the_kubernetes_version_the_operator_checks_for()
    {
        var kubeVersion = KubeVersion().Match(Read("charts", "buildpool", "Chart.yaml"));

        Assert.True(kubeVersion.Success, "Chart.yaml has no kubeVersion");
        Assert.Equal($">={SupportedKubernetes.MinimumText}.0-0", kubeVersion.Groups[1].Value);
    }

    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/install.md")]
    [InlineData("config/default/kustomization.yaml")]
    public void Every_install_path_states_the_same_minimum_kubernetes_version(string file)
    {
        var text = Read(file.Split('/'));
        var stated = MinimumStatement().Matches(text).Select(m => m.Groups[1].Value).Distinct().ToList();

        Assert.Equal([SupportedKubernetes.MinimumText], stated);
    }

    [GeneratedRegex("kubeVersion:\\s*\"([^\"]+)\"")]
    private static partial Regex KubeVersion();

    [GeneratedRegex(@"Kubernetes (1\.\d+) or later")]
    private static partial Regex MinimumStatement();
}
