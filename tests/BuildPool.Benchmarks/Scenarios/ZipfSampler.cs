namespace BuildPool.Benchmarks.Scenarios;

/// <summary>Draws ranks 0 … n-1 with probability ∝ 1/(rank+1)^s from a seeded <see cref="Random"/>.</summary>
internal sealed class ZipfSampler
{
    private readonly double[] _cdf;
    private readonly Random _random;

    public ZipfSampler(int n, double exponent, Random random)
    {
        _random = random;
        _cdf = new double[n];
        var sum = 0.0;
        for (var k = 0; k < n; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, exponent);
            _cdf[k] = sum;
        }

        for (var k = 0; k < n; k++)
        {
            _cdf[k] /= sum;
        }
    }

    public int Next()
    {
        var index = Array.BinarySearch(_cdf, _random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, _cdf.Length - 1);
    }
}
