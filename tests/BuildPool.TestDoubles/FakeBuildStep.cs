namespace BuildPool.TestDoubles;

/// <summary>One vertex a fake Solve reports on Status; <paramref name="Cached"/> steps complete at once, like cache hits.</summary>
public sealed record FakeBuildStep(string Name, bool Cached);
