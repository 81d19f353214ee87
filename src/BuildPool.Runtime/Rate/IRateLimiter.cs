namespace BuildPool.Runtime.Rate;

/// <summary>Decides how long an item waits before it is retried (client-go's <c>RateLimiter</c>).</summary>
public interface IRateLimiter<in TKey>
    where TKey : notnull
{
    /// <summary>Records a retry of <paramref name="item"/> and returns how long it must wait.</summary>
    TimeSpan When(TKey item);

    /// <summary>Stops tracking <paramref name="item"/>: its next failure starts from the base delay again.</summary>
    void Forget(TKey item);

    /// <summary>How many times <paramref name="item"/> has been retried since it was last forgotten.</summary>
    int NumRequeues(TKey item);
}
