namespace BuildPool.Runtime.Informers;

/// <summary>What the controller manager and controllers need from any informer, whatever its kind.</summary>
public interface IInformer
{
    /// <summary>For logs and errors, e.g. the kind it watches.</summary>
    string Name { get; }

    /// <summary>True once the first list has been stored in the cache.</summary>
    bool HasSynced { get; }

    Task WaitForSyncAsync(CancellationToken cancellationToken);

    /// <summary>Lists and watches until cancelled. It returns (without throwing) only when cancelled.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
