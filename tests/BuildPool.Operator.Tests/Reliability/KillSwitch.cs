namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// Makes an operator instance die the way a killed process does: from one moment on, nothing it
/// sends reaches the API server. The moment is "the n-th write from now", which spreads kill points
/// over the operator's progress (between any two writes of a reconcile) instead of over wall time.
/// The fatal write itself is either lost on the way or applied with its answer lost.
/// </summary>
internal sealed class KillSwitch
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _killed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _writesLeft = long.MaxValue;
    private bool _applyFatalWrite;
    private volatile bool _dead;

    public bool IsDead => _dead;

    /// <summary>Completes when the instance has died.</summary>
    public Task Killed => _killed.Task;

    /// <summary>Description of the fatal write, for the test output.</summary>
    public string? FatalWrite { get; private set; }

    public void ArmAfterWrites(int writes, bool applyFatalWrite)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writes, 1);
        lock (_gate)
        {
            _writesLeft = writes;
            _applyFatalWrite = applyFatalWrite;
        }
    }

    public void KillNow(string why)
    {
        lock (_gate)
        {
            FatalWrite ??= why;
            _dead = true;
        }

        _killed.TrySetResult();
    }

    /// <summary>Called for every write; says whether this one kills the instance, and how.</summary>
    public WriteFate OnWrite(string description)
    {
        lock (_gate)
        {
            if (_dead)
            {
                return WriteFate.Lost;
            }

            if (--_writesLeft > 0)
            {
                return WriteFate.Sent;
            }

            _dead = true;
            FatalWrite = $"{description} ({(_applyFatalWrite ? "applied, answer lost" : "lost")})";
        }

        _killed.TrySetResult();
        return _applyFatalWrite ? WriteFate.AppliedThenDie : WriteFate.Lost;
    }

    public HttpRequestException Dead() => new("the operator process was killed");

    internal enum WriteFate
    {
        Sent,
        Lost,
        AppliedThenDie,
    }
}
