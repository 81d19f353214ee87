namespace BuildPool.Api.V1Alpha1;

/// <summary>One signal read from a pool's signal Lease (<see cref="GatewaySignals"/>).</summary>
/// <param name="Name">The annotation it came from (to remove it).</param>
/// <param name="Kind">What it asks for.</param>
/// <param name="At">When the gateway wrote it.</param>
/// <param name="Subject">The volume it is about; for a demand, the tenant (<see cref="GatewaySignals.NoTenant"/> for none).</param>
/// <param name="Detail">Forks wanted, the untrusted build's id, or the demanded key; null for start and used.</param>
public sealed record GatewaySignal(string Name, GatewaySignalKind Kind, DateTime At, string Subject, string? Detail)
{
    /// <summary>Why the value could not be read; null for a readable signal.</summary>
    public string? Invalid { get; init; }

    /// <summary>A demand's tenant, null for none.</summary>
    public string? Tenant => Kind == GatewaySignalKind.Demand && Subject != GatewaySignals.NoTenant ? Subject : null;
}
