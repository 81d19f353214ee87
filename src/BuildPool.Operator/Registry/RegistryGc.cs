namespace BuildPool.Operator.Registry;

/// <summary>
/// Registry cache retention, shared by the RegistryCacheTarget controller and
/// <c>buildpool registry-gc</c>: list the cache tags under a ref, plan, delete manifests.
/// </summary>
public sealed class RegistryGc(RegistryClient client, TimeProvider time)
{
    /// <summary>Checks the registry answers and accepts the credentials, then lists and reads every cache tag.</summary>
    public async Task<CacheInventory> InventoryAsync(CacheRef cacheRef, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cacheRef);
        ArgumentNullException.ThrowIfNull(client);
        await client.PingAsync(cancellationToken).ConfigureAwait(false);

        IReadOnlyList<string> repositories;
        if (!cacheRef.KeyInRepository)
        {
            repositories = [cacheRef.RepositoryTemplate];
        }
        else if (string.IsNullOrEmpty(cacheRef.RepositoryPrefix) || !cacheRef.RepositoryPrefix.EndsWith('/'))
        {
            // Without a fixed directory before {key} the catalog filter could match anyone's repository.
            return new CacheInventory([], Listed: false, $"tags are not listed: {{key}} in \"{cacheRef}\" needs a fixed repository directory before it (like cache/{{key}}) for retention");
        }
        else
        {
            try
            {
                repositories = (await client.ListRepositoriesAsync(cancellationToken).ConfigureAwait(false)).Where(cacheRef.MatchesRepository).ToList();
            }
            catch (RegistryException ex) when (ex.Kind is RegistryErrorKind.Unauthorized or RegistryErrorKind.NotFound)
            {
                return new CacheInventory([], Listed: false, $"tags are not listed: the registry does not serve its catalog (/v2/_catalog) to these credentials ({ex.Message})");
            }
        }

        var reader = new CacheTagReader(client);
        var tags = new List<CacheTag>();
        foreach (var repository in repositories.Order(StringComparer.Ordinal))
        {
            foreach (var tag in (await client.ListTagsAsync(repository, cancellationToken).ConfigureAwait(false)).Where(cacheRef.MatchesTag))
            {
                if (await reader.ReadAsync(repository, tag, cancellationToken).ConfigureAwait(false) is { } found)
                {
                    tags.Add(found);
                }
            }
        }

        return new CacheInventory(tags, Listed: true);
    }

    /// <summary>
    /// Inventories, plans and deletes (or, on a dry run, only reports). <paramref name="deleted"/>
    /// hears each tag as soon as its manifest is gone, so a run cut short still says what it did.
    /// </summary>
    public async Task<RegistryGcResult> RunAsync(CacheRef cacheRef, RetentionLimits limits, bool dryRun, Action<RetentionDecision>? deleted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(time);
        var inventory = await InventoryAsync(cacheRef, cancellationToken).ConfigureAwait(false);
        var plan = RetentionPlanner.Plan(inventory.Tags, limits, time.GetUtcNow());
        var done = new List<RetentionDecision>();
        foreach (var (repository, digest) in plan.Manifests)
        {
            if (!dryRun)
            {
                await client.DeleteManifestAsync(repository, digest, cancellationToken).ConfigureAwait(false);
            }

            foreach (var decision in plan.Delete.Where(d => d.Tag.Repository == repository && d.Tag.Digest == digest))
            {
                done.Add(decision);
                deleted?.Invoke(decision);
            }
        }

        return new RegistryGcResult(inventory, plan, done, dryRun);
    }
}
