using BuildPool.Api.Schema;
using BuildPool.Operator.Hosting;
using BuildPool.Runtime.Client;

namespace BuildPool.Operator.Tests.Hosting;

public sealed class ClusterRequirementsTests
{
    private static readonly IReadOnlyList<ResourceDescriptor> All = [.. ClusterRequirements.BuiltIn, .. ClusterRequirements.Custom];

    [Theory]
    [InlineData("v1.20.2", false)]
    [InlineData("v1.24.17", false)]
    [InlineData("v1.25.0", true)]
    [InlineData("v1.29.3-gke.1200", true)]
    [InlineData("v1.31.1+k3s1", true)]
    [InlineData("v2.0.0", true)]
    public void A_server_is_accepted_from_the_supported_minimum_on(string gitVersion, bool accepted)
    {
        var refusal = ClusterRequirements.Refusal(gitVersion, All, _ => true);

        Assert.Equal(accepted, refusal is null);
    }

    [Fact]
    public void Refusing_an_old_server_names_the_version_found_the_one_required_and_what_it_lacks()
    {
        var refusal = ClusterRequirements.Refusal("v1.20.2", All, r => r.Group != "policy");

        Assert.Equal(
            $"Kubernetes v1.20.2 is too old: BuildPool needs Kubernetes {SupportedKubernetes.MinimumText} or later (it does not serve policy/v1 poddisruptionbudgets)",
            refusal);
        Assert.DoesNotContain("\n", refusal!, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recent_server_without_the_crds_is_refused_with_how_to_install_them()
    {
        var refusal = ClusterRequirements.Refusal("v1.30.0", All, r => r.Group != "buildpool.dev");

        Assert.NotNull(refusal);
        Assert.Contains("buildpool.dev/v1alpha1 builderpools", refusal, StringComparison.Ordinal);
        Assert.Contains("install the CRDs first", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_version_is_refused_rather_than_guessed()
    {
        var refusal = ClusterRequirements.Refusal("unknown", All, _ => true);

        Assert.NotNull(refusal);
        Assert.Contains("'unknown'", refusal, StringComparison.Ordinal);
        Assert.Contains(SupportedKubernetes.MinimumText, refusal, StringComparison.Ordinal);
    }
}
