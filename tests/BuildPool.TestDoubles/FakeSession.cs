namespace BuildPool.TestDoubles;

/// <summary>
/// A client session registered in one fake builder's memory by a <c>Control/Session</c> stream,
/// as BuildKit's session manager keeps it: looked up only locally by id, gone when the stream ends.
/// </summary>
public sealed class FakeSession
{
    /// <summary>The file-sync methods BuildKit looks for before it reads the build context.</summary>
    public static readonly IReadOnlyList<string> FileSyncMethods = ["/moby.filesync.v1.FileSync/DiffCopy", "/moby.filesync.v1.FileSync/TarStream"];

    private readonly TaskCompletionSource<string> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal FakeSession(string builder, string id, string? sharedKey, IReadOnlyList<string> methods, string connectionId)
    {
        Builder = builder;
        Id = id;
        SharedKey = sharedKey;
        Methods = methods;
        ConnectionId = connectionId;
    }

    public string Builder { get; }

    public string Id { get; }

    /// <summary>The <c>X-Docker-Expose-Session-Sharedkey</c> header; null when absent.</summary>
    public string? SharedKey { get; }

    /// <summary>One entry per <c>X-Docker-Expose-Session-Grpc-Method</c> header field, verbatim, as BuildKit reads them.</summary>
    public IReadOnlyList<string> Methods { get; }

    public string ConnectionId { get; }

    /// <summary>
    /// BuildKit matches method names exactly, so a joined field ("a, b") exposes no file sync at all:
    /// the failure a header-joining proxy causes.
    /// </summary>
    public bool ExposesFileSync => Methods.Any(m => FileSyncMethods.Contains(m, StringComparer.Ordinal));

    /// <summary>True while the stream is open (the session is usable by a Solve).</summary>
    public bool IsActive { get; internal set; } = true;

    /// <summary>Number of messages the stream echoed back.</summary>
    public long MessagesEchoed => Interlocked.Read(ref _messagesEchoed);

    private long _messagesEchoed;

    internal void CountEcho() => Interlocked.Increment(ref _messagesEchoed);

    internal Task<string> Failed => _failed.Task;

    /// <summary>Ends the stream with an error, as the daemon's side of a session does when it cannot use it.</summary>
    internal void Fail(string message) => _failed.TrySetResult(message);
}
