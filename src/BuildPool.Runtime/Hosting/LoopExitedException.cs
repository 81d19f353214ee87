namespace BuildPool.Runtime.Hosting;

/// <summary>A loop of the <see cref="ControllerManager"/> returned or failed while it should have kept running (including lost leadership).</summary>
public sealed class LoopExitedException : Exception
{
    public LoopExitedException()
    {
    }

    public LoopExitedException(string message)
        : base(message)
    {
    }

    public LoopExitedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal static string Describe(string loop, Exception? cause) =>
        cause is null ? $"The {loop} loop exited unexpectedly." : $"The {loop} loop failed: {cause.Message}";
}
