using k8s.LeaderElection;

namespace BuildPool.Runtime.Tests.Support;

/// <summary>One lease shared by several <see cref="InMemoryLock"/>s, with optimistic concurrency like a Lease's resourceVersion.</summary>
internal sealed class InMemoryLease
{
    internal readonly Lock Gate = new();
    private readonly HashSet<string> _partitioned = [];

    internal LeaderElectionRecord? Record { get; set; }

    internal int Version { get; set; }

    public string? Holder
    {
        get
        {
            lock (Gate)
            {
                return Record?.HolderIdentity;
            }
        }
    }

    /// <summary>Writes from <paramref name="identity"/> fail from now on, as if it lost its API connection.</summary>
    public void Partition(string identity)
    {
        lock (Gate)
        {
            _partitioned.Add(identity);
        }
    }

    internal bool IsPartitioned(string identity) => _partitioned.Contains(identity);
}

internal sealed class InMemoryLock(InMemoryLease lease, string identity) : ILock
{
    private int _seenVersion = -1;

    public string Identity => identity;

    public Task<LeaderElectionRecord> GetAsync(CancellationToken cancellationToken = default)
    {
        lock (lease.Gate)
        {
            _seenVersion = lease.Version;
            return Task.FromResult(lease.Record is null ? null! : Copy(lease.Record));
        }
    }

    public Task<bool> CreateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
    {
        lock (lease.Gate)
        {
            if (lease.Record is not null || lease.IsPartitioned(identity))
            {
                return Task.FromResult(false);
            }

            return Task.FromResult(Write(record));
        }
    }

    public Task<bool> UpdateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
    {
        lock (lease.Gate)
        {
            if (lease.Version != _seenVersion || lease.IsPartitioned(identity))
            {
                return Task.FromResult(false);
            }

            return Task.FromResult(Write(record));
        }
    }

    public string Describe() => $"in-memory lease as {identity}";

    private bool Write(LeaderElectionRecord record)
    {
        lease.Record = Copy(record);
        lease.Version++;
        _seenVersion = lease.Version;
        return true;
    }

    private static LeaderElectionRecord Copy(LeaderElectionRecord record) => new()
    {
        HolderIdentity = record.HolderIdentity,
        LeaseDurationSeconds = record.LeaseDurationSeconds,
        AcquireTime = record.AcquireTime,
        RenewTime = record.RenewTime,
        LeaderTransitions = record.LeaderTransitions,
    };
}
