using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>Waits until the namespace has the <see cref="ClusterShape"/> of the given pools and every pool is Ready.</summary>
internal static class Convergence
{
    public static async Task WaitAsync(
        IKubernetes kubernetes,
        string ns,
        IReadOnlyCollection<BuilderPool> pools,
        IEnumerable<string>? retainedClaims = null,
        OperatorInstance? running = null,
        TimeSpan? timeout = null)
    {
        var retained = retainedClaims?.ToList() ?? [];
        IReadOnlyList<string> last = [];
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                if (running is not null)
                {
                    await running.ThrowIfFailedAsync();
                }

                last = await ProblemsAsync(kubernetes, ns, pools, retained);
                return last;
            }, problems => problems.Count == 0, "convergence", timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"The operator did not converge: {string.Join("; ", last)}", e);
        }
    }

    public static async Task<IReadOnlyList<string>> ProblemsAsync(IKubernetes kubernetes, string ns, IReadOnlyCollection<BuilderPool> pools, IEnumerable<string> retainedClaims)
    {
        var problems = new List<string>();
        var client = new ResourceClient<BuilderPool>(kubernetes);
        foreach (var expected in pools)
        {
            var pool = await client.GetAsync(ns, expected.Metadata.Name);
            var ready = pool?.Status.Conditions.FirstOrDefault(c => c.Type == "Ready");
            if (pool is null || ready?.Status != "True" || pool.Status.ObservedGeneration != pool.Metadata.Generation)
            {
                problems.Add($"pool {expected.Metadata.Name} not Ready ({ready?.Reason}: {ready?.Message})");
            }
        }

        problems.AddRange(await ClusterShape.DiffAsync(kubernetes, ns, pools, retainedClaims));
        return problems;
    }
}
