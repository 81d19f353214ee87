using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Pools;
using k8s.Models;

namespace BuildPool.Operator.Tests.Pools;

public sealed class BuildxCommandTests
{
    [Fact]
    public void A_pools_command_and_its_bindings_command_expect_the_certificate_files_in_the_same_place()
    {
        var pool = new BuilderPool { Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "default" }, Spec = new BuilderPoolSpec() };

        var poolCommand = BuilderPoolPlanner.BuildxCommand("ci", "tcp://ci.default.svc:1234", new EndpointTlsSpec { Mode = TlsMode.Managed, RequireClientCertificate = true });
        var bindingCommand = ClientAccessCommand.For(pool);

        foreach (var file in new[] { "ca.pem", "cert.pem", "key.pem" })
        {
            Assert.Contains($"$HOME/.buildpool/ci/{file}", poolCommand, StringComparison.Ordinal);
            Assert.Contains($"$HOME/.buildpool/ci/{file}", bindingCommand, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("$PWD", poolCommand, StringComparison.Ordinal);
    }
}
