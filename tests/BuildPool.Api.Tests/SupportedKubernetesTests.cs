using BuildPool.Api.Schema;
using k8s.Models;

namespace BuildPool.Api.Tests;

public sealed class SupportedKubernetesTests
{
    // What each CEL validation field needs: the Kubernetes release that serves it by default.
    private static readonly (string Field, Func<V1ValidationRule, bool> Uses, Version Since)[] ValidationFields =
    [
        ("rule", r => r.Rule is not null, new Version(1, 25)),
        ("messageExpression", r => r.MessageExpression is not null, new Version(1, 27)),
        ("reason", r => r.Reason is not null, new Version(1, 28)),
        ("fieldPath", r => r.FieldPath is not null, new Version(1, 28)),
        ("optionalOldSelf", r => r.OptionalOldSelf is not null, new Version(1, 30)),
    ];

    [Fact]
    public void The_crds_use_no_validation_feature_newer_than_the_supported_minimum()
    {
        var rules = CrdGenerator.Generate()
            .SelectMany(crd => SchemaWalk.All(SchemaWalk.Root(crd)))
            .SelectMany(n => n.Node.XKubernetesValidations ?? [])
            .ToList();
        var used = ValidationFields.Where(f => rules.Any(f.Uses)).ToList();

        Assert.Contains(used, f => f.Field == "rule");
        Assert.All(used, f => Assert.True(f.Since <= SupportedKubernetes.Minimum,
            $"the CRDs use {f.Field} (Kubernetes {f.Since}+), newer than SupportedKubernetes.Minimum {SupportedKubernetes.Minimum}"));
    }
}
