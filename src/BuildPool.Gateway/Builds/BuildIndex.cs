namespace BuildPool.Gateway.Builds;

// The builds the gateway remembers, findable by build ref and by session id. After a merge the
// absorbed build's ids point at the build that absorbed it. Guarded by the correlator's lock.
internal sealed class BuildIndex
{
    private readonly Dictionary<string, BuildUnit> _byRef = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BuildUnit> _bySession = new(StringComparer.Ordinal);
    private readonly HashSet<BuildUnit> _units = [];
    private readonly Dictionary<string, int> _perTenant = new(StringComparer.Ordinal);

    public int Count => _units.Count;

    public int CountOf(string tenant) => _perTenant.GetValueOrDefault(tenant);

    public IEnumerable<BuildUnit> Units => _units;

    public BuildUnit? ByRef(string? reference) => Find(_byRef, reference);

    public BuildUnit? BySession(string? sessionId) => Find(_bySession, sessionId);

    public void Add(BuildUnit unit, string? refId, string? sessionId)
    {
        unit.Connection?.Units.Add(unit);
        _units.Add(unit);
        Tally(unit, 1);
        Register(unit, refId, sessionId);
    }

    public void Register(BuildUnit unit, string? refId, string? sessionId)
    {
        Register(_byRef, unit.Refs, unit, refId);
        Register(_bySession, unit.Sessions, unit, sessionId);
    }

    // Before survivor.Absorb(absorbed): the absorbed build's ids lead to the survivor from now on.
    public void Merge(BuildUnit absorbed, BuildUnit survivor)
    {
        absorbed.MergedInto = survivor;
        _units.Remove(absorbed);
        Tally(absorbed, -1);
        absorbed.Connection?.Units.Remove(absorbed);
        absorbed.Refs.ForEach(id => _byRef[id] = survivor);
        absorbed.Sessions.ForEach(id => _bySession[id] = survivor);
    }

    public void Remove(BuildUnit unit)
    {
        if (_units.Remove(unit))
        {
            Tally(unit, -1);
        }

        unit.Connection?.Units.Remove(unit);
        Forget(_byRef, unit.Refs, unit);
        Forget(_bySession, unit.Sessions, unit);
    }

    private void Tally(BuildUnit unit, int delta)
    {
        if (unit.TenantKey is not { } tenant)
        {
            return;
        }

        var count = _perTenant.GetValueOrDefault(tenant) + delta;
        if (count > 0)
        {
            _perTenant[tenant] = count;
        }
        else
        {
            _perTenant.Remove(tenant);
        }
    }

    private static BuildUnit? Find(Dictionary<string, BuildUnit> map, string? id) =>
        !string.IsNullOrEmpty(id) && map.TryGetValue(id, out var unit) ? unit.Root : null;

    private static void Register(Dictionary<string, BuildUnit> map, List<string> ids, BuildUnit unit, string? id)
    {
        if (!string.IsNullOrEmpty(id) && !(map.TryGetValue(id, out var owner) && owner.Root == unit))
        {
            map[id] = unit;
            ids.Add(id);
        }
    }

    private static void Forget(Dictionary<string, BuildUnit> map, List<string> ids, BuildUnit unit)
    {
        foreach (var id in ids)
        {
            if (map.TryGetValue(id, out var owner) && owner.Root == unit)
            {
                map.Remove(id);
            }
        }
    }
}
