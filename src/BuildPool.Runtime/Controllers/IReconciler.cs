namespace BuildPool.Runtime.Controllers;

/// <summary>
/// Brings the world in line with one object. Called for at most one request per key at a time.
/// Throw to retry with backoff (a <see cref="Client.ConflictException"/> is retried quietly); the
/// token is cancelled on shutdown and the moment leadership is lost.
/// </summary>
public interface IReconciler<T>
{
    Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken);
}
