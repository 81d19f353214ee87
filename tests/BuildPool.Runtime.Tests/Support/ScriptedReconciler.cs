using BuildPool.Runtime.Controllers;

namespace BuildPool.Runtime.Tests.Support;

/// <summary>Records each call; <see cref="Behavior"/> decides the outcome from the request and its attempt number (1-based).</summary>
internal sealed class ScriptedReconciler<T> : IReconciler<T>
{
    private readonly Lock _gate = new();
    private readonly List<ReconcileRequest> _calls = [];
    private readonly Dictionary<ReconcileRequest, int> _attempts = [];

    public Func<ReconcileRequest, int, ReconcileResult> Behavior { get; set; } = (_, _) => ReconcileResult.Done;

    /// <summary>Runs at the start of each call, e.g. to capture what the reconciler could see.</summary>
    public Action<ReconcileRequest>? OnCall { get; set; }

    public IReadOnlyList<ReconcileRequest> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public int CallsFor(string name) => Calls.Count(c => c.Name == name);

    public Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken)
    {
        int attempt;
        lock (_gate)
        {
            _calls.Add(request);
            attempt = _attempts.GetValueOrDefault(request) + 1;
            _attempts[request] = attempt;
        }

        OnCall?.Invoke(request);
        return Task.FromResult(Behavior(request, attempt));
    }
}
