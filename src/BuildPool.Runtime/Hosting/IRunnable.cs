namespace BuildPool.Runtime.Hosting;

/// <summary>A loop the <see cref="ControllerManager"/> runs while leading.</summary>
public interface IRunnable
{
    string Name { get; }

    /// <summary>Runs until cancelled and then returns. Returning or throwing earlier is a failure that stops the host.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
