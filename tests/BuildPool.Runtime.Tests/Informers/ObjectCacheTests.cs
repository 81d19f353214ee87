using BuildPool.Runtime.Informers;
using BuildPool.Runtime.Tests.Support;
using k8s.Models;

namespace BuildPool.Runtime.Tests.Informers;

public sealed class ObjectCacheTests
{
    [Fact]
    public void The_owner_index_finds_children_by_owner_uid_and_forgets_them_when_the_reference_goes()
    {
        var cache = new ObjectCache<V1ConfigMap>();
        var pool = Objects.ControllerRef("BuilderPool", "pool", "buildpool.dev/v1alpha1");
        cache.Upsert(Objects.ConfigMap("child-1", "1", owners: pool));
        cache.Upsert(Objects.ConfigMap("child-2", "2", owners: pool));
        cache.Upsert(Objects.ConfigMap("orphan", "3"));

        Assert.Equal(["child-1", "child-2"], cache.ListOwnedBy(pool.Uid).Select(o => o.Metadata.Name).Order());

        cache.Upsert(Objects.ConfigMap("child-1", "4"));
        cache.Remove("default/child-2");

        Assert.Empty(cache.ListOwnedBy(pool.Uid));
    }

    [Fact]
    public void The_namespace_index_separates_namespaces()
    {
        var cache = new ObjectCache<V1ConfigMap>();
        cache.Upsert(Objects.ConfigMap("a", "1", ns: "one"));
        cache.Upsert(Objects.ConfigMap("a", "2", ns: "two"));
        cache.Upsert(Objects.ConfigMap("b", "3", ns: "two"));

        Assert.Single(cache.ListInNamespace("one"));
        Assert.Equal(2, cache.ListInNamespace("two").Count);
        Assert.Equal("2", cache.Get("two", "a")!.Metadata.ResourceVersion);
    }

    [Fact]
    public void A_custom_index_added_late_covers_objects_already_cached()
    {
        var cache = new ObjectCache<V1ConfigMap>();
        var labelled = Objects.ConfigMap("a", "1");
        labelled.Metadata.Labels = new Dictionary<string, string> { ["pool"] = "p1" };
        cache.Upsert(labelled);
        cache.Upsert(Objects.ConfigMap("b", "2"));

        cache.AddIndexer("pool", o => o.Metadata.Labels is { } labels && labels.TryGetValue("pool", out var pool) ? [pool] : []);

        Assert.Equal("a", Assert.Single(cache.ByIndex("pool", "p1")).Metadata.Name);
    }

    [Fact]
    public void DeepCopy_gives_an_object_whose_changes_do_not_reach_the_cache()
    {
        var cache = new ObjectCache<V1ConfigMap>();
        cache.Upsert(Objects.ConfigMap("a", "1"));

        var copy = ObjectCopy.DeepCopy(cache.Get("default", "a")!);
        copy.Metadata.Labels = new Dictionary<string, string> { ["changed"] = "yes" };

        Assert.Null(cache.Get("default", "a")!.Metadata.Labels);
    }
}
