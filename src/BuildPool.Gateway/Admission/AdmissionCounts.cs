namespace BuildPool.Gateway.Admission;

/// <summary>One builder's admission state, for status and metrics.</summary>
/// <param name="Running">Builds holding a slot.</param>
/// <param name="Queued">Builds waiting for one.</param>
/// <param name="Capacity">Slots (<c>maxConcurrentBuilds</c>, 1 for a Locked volume).</param>
public readonly record struct AdmissionCounts(int Running, int Queued, int Capacity);
