namespace BuildPool.Packaging.Tests;

public sealed class KubernetesModelsTests
{
    private const string Deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: op
          labels: {a: "1"}
        spec:
          replicas: 2
          selector: {matchLabels: {a: "1"}}
          template:
            metadata: {labels: {a: "1"}}
            spec:
              containers:
                - name: op
                  image: buildpool
                  ports: [{name: metrics, containerPort: 8080}]
                  livenessProbe: {httpGet: {path: /healthz, port: metrics}}
                  resources: {requests: {cpu: 50m}}
        """;

    [Fact]
    public void A_valid_manifest_survives_the_round_trip_unchanged()
    {
        var loaded = Assert.Single(KubernetesModels.LoadAll(Deployment));

        Assert.Equal("k8s.Models.V1Deployment", loaded.Model.GetType().FullName);
        Assert.Empty(KubernetesModels.RoundTripDifferences(loaded));
    }

    [Theory]
    [InlineData("a misspelt field", "  replicas: 2", "  replica: 2")]
    [InlineData("a field at the wrong level", "          image: buildpool", "          image: buildpool\n          replicas: 2")]
    public void A_field_the_model_does_not_know_is_reported(string mistake, string from, string to)
    {
        var yaml = Deployment.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Deployment, yaml);

        var reported = Record.Exception(() => KubernetesModels.LoadAll(yaml)) is not null
            || KubernetesModels.LoadAll(yaml).Any(o => KubernetesModels.RoundTripDifferences(o).Count > 0);

        Assert.True(reported, $"{mistake} went unnoticed");
    }

    [Fact]
    public void A_wrongly_typed_value_is_reported()
    {
        var yaml = Deployment.Replace("replicas: 2", "replicas: two", StringComparison.Ordinal);

        Assert.ThrowsAny<Exception>(() => KubernetesModels.LoadAll(yaml));
    }

    [Theory]
    [InlineData("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\n")]
    [InlineData("apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: x}\n")]
    public void A_kind_without_a_model_is_an_error(string yaml)
    {
        var error = Assert.Throws<InvalidOperationException>(() => KubernetesModels.LoadAll(yaml));

        Assert.Contains("no KubernetesClient model", error.Message, StringComparison.Ordinal);
    }
}
