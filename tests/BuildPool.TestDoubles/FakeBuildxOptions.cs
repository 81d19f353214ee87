namespace BuildPool.TestDoubles;

/// <summary>What one simulated <c>docker buildx build</c> sends; defaults match a plain buildx remote-driver build.</summary>
public sealed class FakeBuildxOptions
{
    /// <summary>The four services buildx exposes for a build with a local context, secrets and registry auth.</summary>
    public static readonly IReadOnlyList<string> DefaultSessionMethods =
    [
        "/moby.filesync.v1.FileSync/DiffCopy",
        "/moby.filesync.v1.FileSync/TarStream",
        "/moby.filesync.v1.Auth/Credentials",
        "/moby.buildkit.secrets.v1.Secrets/GetSecret",
    ];

    /// <summary>The <c>:authority</c>; null uses the endpoint host, as buildx 0.36+ does (older versions sent a fixed value).</summary>
    public string? Authority { get; init; }

    /// <summary>The Solve ref (build id); buildx makes a random one per build.</summary>
    public string Ref { get; init; } = NewId();

    /// <summary>The session id (<c>X-Docker-Expose-Session-Uuid</c>, Solve field 5).</summary>
    public string SessionId { get; init; } = NewId();

    /// <summary>Base name of the build context directory: the first part of the shared key.</summary>
    public string ContextName { get; init; } = "app";

    /// <summary>buildx's per-machine node id (8 random bytes, hex): the second part of the shared key.</summary>
    public string NodeId { get; init; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    /// <summary>Overrides <c>ContextName:NodeId</c>; an empty string sends no shared-key header.</summary>
    public string? SharedKey { get; init; }

    public string EffectiveSharedKey => SharedKey ?? ContextName + ":" + NodeId;

    /// <summary>The services the session exposes, each sent as its own header field.</summary>
    public IReadOnlyList<string> SessionMethods { get; init; } = DefaultSessionMethods;

    /// <summary>Sends the methods as one comma-joined field, as HttpClient/YARP/Grpc.Net.Client would: the trap.</summary>
    public bool JoinSessionMethodHeaders { get; init; }

    /// <summary>The image exporter's <c>name</c>; null builds without an exporter.</summary>
    public string? ExporterImage { get; init; }

    /// <summary>Puts the exporter in Solve fields 3/4 (older BuildKit) instead of field 13.</summary>
    public bool UseLegacyExporterFields { get; init; }

    /// <summary>Registry refs for <c>--cache-to</c> (Solve field 8.4).</summary>
    public IReadOnlyList<string> CacheExports { get; init; } = [];

    /// <summary>Registry refs for <c>--cache-from</c> (Solve field 8.5).</summary>
    public IReadOnlyList<string> CacheImports { get; init; } = [];

    /// <summary>The Dockerfile built; null leaves the steps to the builder (<see cref="FakeBuilds.Steps"/>).</summary>
    public FakeDockerfile? Dockerfile { get; init; }

    /// <summary><c>--build-arg NAME=VALUE</c> (Solve frontend attributes <c>build-arg:NAME</c>).</summary>
    public IReadOnlyDictionary<string, string> BuildArgs { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// A content hash of the build context the client sends: the same id means the same files, so
    /// context-reading steps hit the cache; another id misses them (a changed source file).
    /// </summary>
    public string ContextContentId { get; init; } = "context-1";

    /// <summary><c>--no-cache</c> (empty: every stage) or <c>--no-cache-filter</c> (a comma list of stages); null asks for the cache.</summary>
    public string? NoCache { get; init; }

    /// <summary>Info and ListWorkers, each on its own connection first, as buildx bootstraps a node.</summary>
    public bool Bootstrap { get; init; } = true;

    /// <summary>Open the Session stream. Off: the Solve names a session the builder never sees.</summary>
    public bool SendSession { get; init; } = true;

    /// <summary>Send the Solve. Off: only the other calls of the build (e.g. an LLBBridge call no Solve announced).</summary>
    public bool SendSolve { get; init; } = true;

    /// <summary>Open the Status stream before the Solve.</summary>
    public bool SendStatus { get; init; } = true;

    /// <summary>Call LLBBridge/Ping with the build-id metadata while the Solve runs.</summary>
    public bool SendPing { get; init; } = true;

    /// <summary>Messages sent through the session; each must come back (the fake builders echo).</summary>
    public IReadOnlyList<byte[]> SessionPayloads { get; init; } = [System.Text.Encoding.UTF8.GetBytes("context")];

    /// <summary>Upper bound for the whole build, like a CI job's timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long Status may run on after the Solve returned (it ends with the Solve on the right builder).</summary>
    public TimeSpan StatusGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Optional hook right after the Solve request is sent (e.g. to observe the running build).</summary>
    public Func<Task>? OnSolveSent { get; init; }

    public static string NewId() => Guid.NewGuid().ToString("N")[..25];
}
