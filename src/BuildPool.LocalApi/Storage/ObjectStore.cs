using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Discovery;
using BuildPool.LocalApi.Http;
using BuildPool.LocalApi.Json;
using BuildPool.LocalApi.Selectors;
using BuildPool.LocalApi.Validation;
using BuildPool.LocalApi.Validation.Cel;

namespace BuildPool.LocalApi.Storage;

/// <summary>
/// The emulated etcd plus the API server's registry logic: one global revision counter, a bounded
/// event history for watch resume, finalizers, owner-reference garbage collection and namespace
/// cleanup. Everything runs under one lock: the emulator serves tests and a laptop, and a single
/// serialization point makes the ordering guarantees of the real server trivially true.
/// Stored objects are never mutated in place; every write stores a fresh node.
/// </summary>
internal sealed class ObjectStore
{
    private const string ForegroundFinalizer = "foregroundDeletion";
    private const string NameChars = "bcdfghjklmnpqrstvwxz2456789";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<string, JsonObject>> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string StorageKey, string Key)> _byUid = new(StringComparer.Ordinal);
    private readonly Queue<StoredEvent> _history = new();
    private readonly List<Watcher> _watchers = [];
    private readonly ResourceRegistry _registry;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly int _historyLimit;
    private long _revision;
    private long _compactedRevision;

    public ObjectStore(ResourceRegistry registry, TimeProvider time, Random random, int historyLimit)
    {
        _registry = registry;
        _time = time;
        _random = random;
        _historyLimit = Math.Max(1, historyLimit);
        _revision = 1;
        Create(_registry.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = "default" } }, WriteOptions.Default);
    }

    public event Action<long>? Written;

    public long Revision
    {
        get
        {
            lock (_gate)
            {
                return _revision;
            }
        }
    }

    public int OpenWatches
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    private static string Key(string? ns, string name) => $"{ns}/{name}";

    private string Now() => JsonUtil.FormatTime(_time.GetUtcNow());

    private static string Rv(long rv) => rv.ToString(CultureInfo.InvariantCulture);

    private SortedDictionary<string, JsonObject> Bucket(string storageKey)
    {
        if (!_objects.TryGetValue(storageKey, out var bucket))
        {
            bucket = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
            _objects[storageKey] = bucket;
        }

        return bucket;
    }

    private static JsonObject Present(ResourceType rt, JsonObject stored)
    {
        var copy = JsonUtil.Clone(stored);
        copy["apiVersion"] = rt.GroupVersion;
        copy["kind"] = rt.Kind;
        return copy;
    }

    /// <summary>Puts apiVersion, kind and metadata first, as the real server's serializer does. Consumes <paramref name="body"/>.</summary>
    private static JsonObject Normalize(ResourceType rt, JsonObject body)
    {
        var result = new JsonObject { ["apiVersion"] = rt.GroupVersion, ["kind"] = rt.Kind };
        var meta = body["metadata"] as JsonObject ?? [];
        body.Remove("metadata");
        result["metadata"] = meta;
        foreach (var (key, value) in body.ToList())
        {
            if (key is "apiVersion" or "kind")
            {
                continue;
            }

            body.Remove(key);
            result[key] = value;
        }

        return result;
    }

    public JsonObject Get(ResourceType rt, string? ns, string name)
    {
        lock (_gate)
        {
            return Present(rt, Find(rt, ns, name) ?? throw Status.NotFound(rt, name));
        }
    }

    private JsonObject? Find(ResourceType rt, string? ns, string name) =>
        _objects.TryGetValue(rt.StorageKey, out var bucket) && bucket.TryGetValue(Key(rt.Namespaced ? ns : null, name), out var obj) ? obj : null;

    public ListResult List(ResourceType rt, string? ns, LabelSelector labels, FieldSelector fields, string? resourceVersion, int limit, string? continueToken)
    {
        lock (_gate)
        {
            if (long.TryParse(resourceVersion, CultureInfo.InvariantCulture, out var requested) && requested != 0 && requested < _compactedRevision)
            {
                throw new ApiException(410, Status.Failure(410, "Expired", "The resourceVersion for the provided list is too old."));
            }

            var start = continueToken is null ? null : DecodeContinue(continueToken);
            var matches = (_objects.TryGetValue(rt.StorageKey, out var bucket) ? bucket : [])
                .Where(kv => start is null || string.CompareOrdinal(kv.Key, start) > 0)
                .Where(kv => ns is null || !rt.Namespaced || JsonUtil.Namespace(kv.Value) == ns)
                .Where(kv => labels.Matches(kv.Value) && fields.Matches(kv.Value))
                .ToList();
            string? next = null;
            long? remaining = null;
            if (limit > 0 && matches.Count > limit)
            {
                remaining = matches.Count - limit;
                matches = matches.Take(limit).ToList();
                next = Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new[] { Rv(_revision), matches[^1].Key })));
            }

            return new ListResult(matches.Select(kv => Present(rt, kv.Value)).ToList(), _revision, next, remaining);
        }
    }

    private static string DecodeContinue(string token)
    {
        try
        {
            var parts = JsonSerializer.Deserialize<string[]>(Encoding.UTF8.GetString(Convert.FromBase64String(token)));
            return parts is { Length: 2 } ? parts[1] : throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw Status.BadRequest($"continue key is not valid: {e.Message}");
        }
    }

    public JsonObject Create(ResourceType rt, string? ns, JsonObject body, WriteOptions options)
    {
        lock (_gate)
        {
            var obj = Normalize(rt, JsonUtil.Clone(body));
            var meta = JsonUtil.Metadata(obj);
            if (!string.IsNullOrEmpty(JsonUtil.Str(meta["resourceVersion"])))
            {
                throw Status.Internal("resourceVersion should not be set on objects to be created");
            }

            ns = PrepareNamespace(rt, ns, meta);
            var name = JsonUtil.Str(meta["name"]);
            if (string.IsNullOrEmpty(name))
            {
                var prefix = JsonUtil.Str(meta["generateName"]);
                if (string.IsNullOrEmpty(prefix))
                {
                    throw Status.Invalid(rt, "", [new FieldError("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")]);
                }

                do
                {
                    name = prefix + new string(Enumerable.Range(0, 5).Select(_ => NameChars[_random.Next(NameChars.Length)]).ToArray());
                }
                while (Find(rt, ns, name) is not null);
                meta["name"] = name;
            }

            if (Find(rt, ns, name) is not null)
            {
                throw Status.AlreadyExists(rt, name);
            }

            if (rt.Namespaced && rt.Plural != "namespaces")
            {
                var nsObj = Find(_registry.Namespaces, null, ns!) ?? throw Status.NotFound("", "namespaces", ns!);
                if (nsObj["metadata"]?["deletionTimestamp"] is not null)
                {
                    throw Status.Forbidden(rt, name, $"unable to create new content in namespace {ns} because it is being terminated");
                }
            }

            if (rt.HasStatus)
            {
                // The status subresource owns status; create ignores what the client sent.
                obj.Remove("status");
            }

            ValidateCustom(rt, obj, name, options);
            if (rt.StorageKey == _registry.Crds.StorageKey)
            {
                ValidateCrd(rt, obj, name);
                obj["status"] = CrdStatus(obj);
            }

            if (rt.Plural == "secrets" && rt.Group.Length == 0 && string.IsNullOrEmpty(JsonUtil.Str(obj["type"])))
            {
                // The one built-in default clients commonly rely on.
                obj["type"] = "Opaque";
            }

            if (rt.Plural == "namespaces" && rt.Group.Length == 0)
            {
                obj["status"] = new JsonObject { ["phase"] = "Active" };
            }

            foreach (var systemField in new[] { "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields" })
            {
                meta.Remove(systemField);
            }

            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Now();
            meta["generation"] = 1;
            meta["managedFields"] = ManagedFields.Record(null, options.FieldManager, "Update", rt.GroupVersion, null, Now());
            if (options.DryRun)
            {
                meta["resourceVersion"] = Rv(_revision);
                return Present(rt, obj);
            }

            var rv = ++_revision;
            meta["resourceVersion"] = Rv(rv);
            Bucket(rt.StorageKey)[Key(ns, name)] = obj;
            _byUid[JsonUtil.Uid(obj)!] = (rt.StorageKey, Key(ns, name));
            Record(new StoredEvent(rv, "ADDED", rt.StorageKey, obj, null));
            if (rt.StorageKey == _registry.Crds.StorageKey)
            {
                _registry.Register(obj);
            }

            var created = Present(rt, obj);
            // The garbage collector also removes an object created with owners that are all gone
            // already (a controller that acted on a stale cache), a moment after its creation.
            if (meta["ownerReferences"] is JsonArray { Count: > 0 } owners
                && owners.All(r => JsonUtil.Str(r?["uid"]) is not { } ou || !_byUid.ContainsKey(ou)))
            {
                DeleteInternal(rt.StorageKey, Key(ns, name), "Background");
            }

            return created;
        }
    }

    private static string? PrepareNamespace(ResourceType rt, string? ns, JsonObject meta)
    {
        if (!rt.Namespaced)
        {
            meta.Remove("namespace");
            return null;
        }

        var bodyNs = JsonUtil.Str(meta["namespace"]);
        if (ns is null)
        {
            throw Status.BadRequest("the namespace of the object must be specified in the request path");
        }

        if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
        {
            throw Status.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        meta["namespace"] = ns;
        return ns;
    }

    /// <param name="rt">The resource.</param>
    /// <param name="obj">The object to write, pruned and defaulted in place.</param>
    /// <param name="name">Its name, for messages.</param>
    /// <param name="options">The request's field validation.</param>
    /// <param name="old">On an update of the main resource, the stored object: CEL rules are checked
    /// on writes of the main resource only (a status write cannot change what they check), and
    /// transition rules (oldSelf) on updates only.</param>
    /// <param name="rules">Whether to check the CEL rules.</param>
    private static void ValidateCustom(ResourceType rt, JsonObject obj, string name, WriteOptions options, JsonObject? old = null, bool rules = true)
    {
        if (rt.Schema is not { } schema)
        {
            return;
        }

        var unknown = SchemaValidator.PruneAndDefault(obj, schema);
        if (unknown.Count > 0 && options.StrictFields)
        {
            var fields = string.Join(", ", unknown.Select(u => $"unknown field \"{u}\""));
            throw Status.BadRequest($"{rt.Kind} in version \"{rt.Version}\" cannot be handled as a {rt.Kind}: strict decoding error: {fields}");
        }

        var errors = SchemaValidator.Validate(obj, schema);
        if (errors.Count == 0 && rules)
        {
            // Like kube-apiserver, rules see only values that passed the schema: every type is the one they expect.
            errors = CelRules.Validate(obj, old, schema);
        }

        if (errors.Count > 0)
        {
            throw Status.Invalid(rt, name, errors);
        }
    }

    private static void ValidateCrd(ResourceType rt, JsonObject crd, string name)
    {
        var errors = new List<FieldError>();
        var spec = crd["spec"];
        var group = JsonUtil.Str(spec?["group"]);
        var plural = JsonUtil.Str(spec?["names"]?["plural"]);
        if (string.IsNullOrEmpty(group))
        {
            errors.Add(new FieldError("FieldValueRequired", "spec.group", "Required value"));
        }

        if (string.IsNullOrEmpty(plural))
        {
            errors.Add(new FieldError("FieldValueRequired", "spec.names.plural", "Required value"));
        }

        if (string.IsNullOrEmpty(JsonUtil.Str(spec?["names"]?["kind"])))
        {
            errors.Add(new FieldError("FieldValueRequired", "spec.names.kind", "Required value"));
        }

        if (spec?["versions"] is not JsonArray { Count: > 0 })
        {
            errors.Add(new FieldError("FieldValueRequired", "spec.versions", "Required value: must have exactly one version marked as storage version"));
        }

        if (errors.Count == 0 && name != $"{plural}.{group}")
        {
            errors.Add(new FieldError("FieldValueInvalid", "metadata.name", $"Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"));
        }

        errors.AddRange(CelRules.CompileErrors(spec?["versions"], "spec.versions"));

        if (errors.Count > 0)
        {
            throw Status.Invalid(rt, name, errors);
        }
    }

    private JsonObject CrdStatus(JsonObject crd)
    {
        var now = Now();
        var versions = (crd["spec"]?["versions"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Where(v => v["storage"]?.GetValueKind() == JsonValueKind.True)
            .Select(v => (JsonNode?)JsonValue.Create(JsonUtil.Str(v["name"])))
            .ToArray();
        return new JsonObject
        {
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "NamesAccepted", ["status"] = "True", ["reason"] = "NoConflicts", ["message"] = "no conflicts found", ["lastTransitionTime"] = now },
                new JsonObject { ["type"] = "Established", ["status"] = "True", ["reason"] = "InitialNamesAccepted", ["message"] = "the initial names have been accepted", ["lastTransitionTime"] = now }),
            ["acceptedNames"] = crd["spec"]?["names"]?.DeepClone(),
            ["storedVersions"] = new JsonArray(versions),
        };
    }

    /// <summary>PUT and PATCH: <paramref name="produce"/> turns a copy of the current object into the desired one.</summary>
    public JsonObject Update(ResourceType rt, string? ns, string name, string? subresource, Func<JsonObject, JsonObject> produce, WriteOptions options)
    {
        lock (_gate)
        {
            ns = rt.Namespaced ? ns : null;
            var current = Find(rt, ns, name) ?? throw Status.NotFound(rt, name);
            var proposed = Normalize(rt, produce(Present(rt, current)));
            var proposedMeta = JsonUtil.Metadata(proposed);
            var proposedName = JsonUtil.Str(proposedMeta["name"]);
            if (!string.IsNullOrEmpty(proposedName) && proposedName != name)
            {
                throw Status.BadRequest($"the name of the object ({proposedName}) does not match the name on the URL ({name})");
            }

            if (rt.Namespaced && JsonUtil.Str(proposedMeta["namespace"]) is { Length: > 0 } proposedNs && proposedNs != ns)
            {
                throw Status.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            var currentRv = JsonUtil.ResourceVersion(current);
            if (JsonUtil.Str(proposedMeta["resourceVersion"]) is { Length: > 0 } rv && rv != currentRv)
            {
                throw Status.Conflict(rt, name);
            }

            JsonObject next;
            if (subresource == "status")
            {
                next = Present(rt, current);
                JsonUtil.Set(next, "status", proposed["status"]);
            }
            else
            {
                next = proposed;
                if (rt.HasStatus)
                {
                    JsonUtil.Set(next, "status", current["status"]);
                }
            }

            var meta = JsonUtil.Metadata(next);
            var currentMeta = (JsonObject)current["metadata"]!;
            foreach (var field in new[] { "name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "managedFields" })
            {
                JsonUtil.Set(meta, field, currentMeta[field]?.DeepClone());
            }

            meta["resourceVersion"] = currentRv;
            ValidateCustom(rt, next, name, options, old: current, rules: subresource != "status");
            if (rt.StorageKey == _registry.Crds.StorageKey)
            {
                ValidateCrd(rt, next, name);
            }

            if (!JsonNode.DeepEquals(SpecPart(rt, next), SpecPart(rt, current)))
            {
                meta["generation"] = (JsonUtil.Long(currentMeta["generation"]) ?? 0) + 1;
            }

            var compareCurrent = Present(rt, current);
            if (JsonNode.DeepEquals(next, compareCurrent))
            {
                // A no-op write does not bump the revision and emits nothing, as with etcd.
                return compareCurrent;
            }

            // Only a write that changes something is recorded, as the real server does.
            meta["managedFields"] = ManagedFields.Record(currentMeta["managedFields"], options.FieldManager, "Update", rt.GroupVersion, subresource, Now());
            if (options.DryRun)
            {
                return next;
            }

            Replace(rt.StorageKey, Key(ns, name), current, next);
            if (rt.StorageKey == _registry.Crds.StorageKey)
            {
                _registry.Register(next);
            }

            if (meta["deletionTimestamp"] is not null && !HasFinalizers(next))
            {
                Finalize(rt.StorageKey, Key(ns, name));
            }

            return Present(rt, next);
        }
    }

    /// <summary>What <c>metadata.generation</c> tracks: everything but metadata, and but status when that is a subresource.</summary>
    private static JsonObject SpecPart(ResourceType rt, JsonObject obj)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in obj)
        {
            if (key is "metadata" or "apiVersion" or "kind" || (rt.HasStatus && key == "status"))
            {
                continue;
            }

            copy[key] = value?.DeepClone();
        }

        return copy;
    }

    private static bool HasFinalizers(JsonObject obj) => obj["metadata"]?["finalizers"] is JsonArray { Count: > 0 };

    private void Replace(string storageKey, string key, JsonObject previous, JsonObject next)
    {
        var rv = ++_revision;
        JsonUtil.Metadata(next)["resourceVersion"] = Rv(rv);
        Bucket(storageKey)[key] = next;
        Record(new StoredEvent(rv, "MODIFIED", storageKey, next, previous));
    }

    public (JsonObject Result, bool Gone) Delete(ResourceType rt, string? ns, string name, DeleteOptions options)
    {
        lock (_gate)
        {
            ns = rt.Namespaced ? ns : null;
            var current = Find(rt, ns, name) ?? throw Status.NotFound(rt, name);
            if (options.PreconditionUid is { } uid && uid != JsonUtil.Uid(current))
            {
                throw Status.Conflict(rt, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {JsonUtil.Uid(current)}");
            }

            if (options.PreconditionResourceVersion is { } prv && prv != JsonUtil.ResourceVersion(current))
            {
                throw Status.Conflict(rt, name, $"Precondition failed: ResourceVersion in precondition: {prv}, ResourceVersion in object meta: {JsonUtil.ResourceVersion(current)}");
            }

            if (options.DryRun)
            {
                return (Present(rt, current), false);
            }

            var gone = DeleteInternal(rt.StorageKey, Key(ns, name), options.PropagationPolicy);
            var final = Find(rt, ns, name);
            return (Present(rt, final ?? gone ?? current), final is null);
        }
    }

    public IReadOnlyList<JsonObject> DeleteCollection(ResourceType rt, string? ns, LabelSelector labels, FieldSelector fields, DeleteOptions options)
    {
        lock (_gate)
        {
            var targets = (_objects.TryGetValue(rt.StorageKey, out var bucket) ? bucket : [])
                .Where(kv => (ns is null || !rt.Namespaced || JsonUtil.Namespace(kv.Value) == ns) && labels.Matches(kv.Value) && fields.Matches(kv.Value))
                .Select(kv => kv.Key)
                .ToList();
            var results = new List<JsonObject>();
            foreach (var key in targets)
            {
                if (options.DryRun)
                {
                    continue;
                }

                var removed = DeleteInternal(rt.StorageKey, key, options.PropagationPolicy);
                var still = Bucket(rt.StorageKey).GetValueOrDefault(key);
                if ((still ?? removed) is { } o)
                {
                    results.Add(Present(rt, o));
                }
            }

            return results;
        }
    }

    /// <summary>Starts deleting an object; returns its final state when it was removed right away.</summary>
    private JsonObject? DeleteInternal(string storageKey, string key, string? policy)
    {
        if (!Bucket(storageKey).TryGetValue(key, out var current))
        {
            return null;
        }

        var uid = JsonUtil.Uid(current)!;
        var isNamespace = storageKey == _registry.Namespaces.StorageKey;
        if (policy == "Orphan")
        {
            foreach (var (depKey, depItem, dep) in Dependents(uid))
            {
                var next = JsonUtil.Clone(dep);
                var refs = (JsonArray)next["metadata"]!["ownerReferences"]!;
                for (var i = refs.Count - 1; i >= 0; i--)
                {
                    if (JsonUtil.Str(refs[i]?["uid"]) == uid)
                    {
                        refs.RemoveAt(i);
                    }
                }

                if (refs.Count == 0)
                {
                    ((JsonObject)next["metadata"]!).Remove("ownerReferences");
                }

                Replace(depKey, depItem, dep, next);
            }
        }

        var foreground = policy == "Foreground" && Dependents(uid).Any();
        var mustWait = HasFinalizers(current) || foreground || (isNamespace && !NamespaceEmpty(NameOf(key)));
        if (!mustWait)
        {
            return Remove(storageKey, key);
        }

        if (current["metadata"]?["deletionTimestamp"] is null || (foreground && !FinalizerList(current).Contains(ForegroundFinalizer)))
        {
            var next = JsonUtil.Clone(current);
            var meta = JsonUtil.Metadata(next);
            meta["deletionTimestamp"] ??= Now();
            meta["deletionGracePeriodSeconds"] ??= 0;
            if (foreground && !FinalizerList(current).Contains(ForegroundFinalizer))
            {
                if (meta["finalizers"] is not JsonArray finalizers)
                {
                    finalizers = [];
                    meta["finalizers"] = finalizers;
                }

                finalizers.Add(ForegroundFinalizer);
            }

            if (isNamespace)
            {
                next["status"] = new JsonObject { ["phase"] = "Terminating" };
            }

            Replace(storageKey, key, current, next);
        }

        if (foreground)
        {
            foreach (var (depKey, depItem, _) in Dependents(uid).ToList())
            {
                DeleteInternal(depKey, depItem, "Background");
            }
        }

        if (isNamespace)
        {
            var ns = NameOf(key);
            foreach (var (sk, bucket) in _objects.ToList())
            {
                foreach (var item in bucket.Where(kv => JsonUtil.Namespace(kv.Value) == ns && sk != storageKey).Select(kv => kv.Key).ToList())
                {
                    DeleteInternal(sk, item, "Background");
                }
            }
        }

        // The dependents may all have gone synchronously, which can complete this deletion too.
        if (Bucket(storageKey).TryGetValue(key, out var after) && after["metadata"]?["deletionTimestamp"] is not null)
        {
            Finalize(storageKey, key);
        }

        return Bucket(storageKey).ContainsKey(key) ? null : current;
    }

    private static string NameOf(string key) => key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..];

    private static List<string> FinalizerList(JsonObject obj) => JsonUtil.StringList(obj["metadata"]?["finalizers"]).ToList();

    /// <summary>Removes a terminating object once nothing holds it any more.</summary>
    private void Finalize(string storageKey, string key)
    {
        if (!Bucket(storageKey).TryGetValue(key, out var obj))
        {
            return;
        }

        var uid = JsonUtil.Uid(obj)!;
        var finalizers = FinalizerList(obj);
        if (finalizers.Contains(ForegroundFinalizer) && !Dependents(uid).Any())
        {
            var next = JsonUtil.Clone(obj);
            var list = (JsonArray)next["metadata"]!["finalizers"]!;
            for (var i = list.Count - 1; i >= 0; i--)
            {
                if (JsonUtil.Str(list[i]) == ForegroundFinalizer)
                {
                    list.RemoveAt(i);
                }
            }

            if (list.Count == 0)
            {
                ((JsonObject)next["metadata"]!).Remove("finalizers");
            }

            Replace(storageKey, key, obj, next);
            obj = next;
        }

        if (HasFinalizers(obj))
        {
            return;
        }

        if (storageKey == _registry.Namespaces.StorageKey && !NamespaceEmpty(NameOf(key)))
        {
            return;
        }

        Remove(storageKey, key);
    }

    private bool NamespaceEmpty(string ns) =>
        !_objects.Where(kv => kv.Key != _registry.Namespaces.StorageKey).Any(kv => kv.Value.Values.Any(o => JsonUtil.Namespace(o) == ns));

    private IEnumerable<(string StorageKey, string Key, JsonObject Object)> Dependents(string ownerUid) =>
        _objects.SelectMany(b => b.Value
            .Where(kv => kv.Value["metadata"]?["ownerReferences"] is JsonArray refs && refs.Any(r => JsonUtil.Str(r?["uid"]) == ownerUid))
            .Select(kv => (b.Key, kv.Key, kv.Value)))
            .ToList();

    /// <summary>Actually removes an object, then lets the garbage collector and waiting owners react.</summary>
    private JsonObject Remove(string storageKey, string key)
    {
        var bucket = Bucket(storageKey);
        var current = bucket[key];
        bucket.Remove(key);
        var uid = JsonUtil.Uid(current)!;
        _byUid.Remove(uid);
        var final = JsonUtil.Clone(current);
        var rv = ++_revision;
        JsonUtil.Metadata(final)["resourceVersion"] = Rv(rv);
        Record(new StoredEvent(rv, "DELETED", storageKey, final, current));

        if (storageKey == _registry.Crds.StorageKey)
        {
            var crdKey = ResourceRegistry.CrdStorageKey(current);
            if (_objects.TryGetValue(crdKey, out var instances))
            {
                foreach (var item in instances.Keys.ToList())
                {
                    Remove(crdKey, item);
                }
            }

            _registry.Unregister(crdKey);
        }

        // Background garbage collection: dependents whose owners are all gone go too.
        foreach (var (depKey, depItem, dep) in Dependents(uid))
        {
            var refs = dep["metadata"]!["ownerReferences"] as JsonArray ?? [];
            if (refs.All(r => JsonUtil.Str(r?["uid"]) is not { } ou || !_byUid.ContainsKey(ou)))
            {
                DeleteInternal(depKey, depItem, "Background");
            }
        }

        // Owners in foreground deletion waiting for this dependent.
        foreach (var r in (current["metadata"]?["ownerReferences"] as JsonArray ?? []).ToList())
        {
            // Only an owner that is itself being deleted may be finalized here: removing a
            // dependent must never remove a live owner.
            if (JsonUtil.Str(r?["uid"]) is { } ownerUid && _byUid.TryGetValue(ownerUid, out var owner)
                && Bucket(owner.StorageKey).TryGetValue(owner.Key, out var ownerObj)
                && ownerObj["metadata"]?["deletionTimestamp"] is not null)
            {
                Finalize(owner.StorageKey, owner.Key);
            }
        }

        if (JsonUtil.Namespace(current) is { Length: > 0 } ns &&
            Bucket(_registry.Namespaces.StorageKey).TryGetValue(Key(null, ns), out var nsObj) &&
            nsObj["metadata"]?["deletionTimestamp"] is not null)
        {
            Finalize(_registry.Namespaces.StorageKey, Key(null, ns));
        }

        return final;
    }

    private void Record(StoredEvent e)
    {
        _history.Enqueue(e);
        while (_history.Count > _historyLimit)
        {
            _compactedRevision = _history.Dequeue().ResourceVersion;
        }

        foreach (var w in _watchers)
        {
            w.Offer(e);
        }

        Written?.Invoke(e.ResourceVersion);
    }

    /// <summary>
    /// Opens a watch. Without a revision (or with "0") current objects arrive as synthetic ADDED
    /// events; with one, history after it is replayed, or a 410 ERROR event ends the stream when
    /// that revision has been compacted away.
    /// </summary>
    public Watcher Watch(Watcher watcher, string? resourceVersion)
    {
        lock (_gate)
        {
            if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                if (_objects.TryGetValue(watcher.Type.StorageKey, out var bucket))
                {
                    foreach (var obj in bucket.Values.Where(watcher.Matches))
                    {
                        watcher.Send("ADDED", obj);
                    }
                }
            }
            else
            {
                if (!long.TryParse(resourceVersion, CultureInfo.InvariantCulture, out var from))
                {
                    throw Status.BadRequest($"invalid resource version: {resourceVersion}");
                }

                if (from < _compactedRevision)
                {
                    watcher.Fail(Status.Expired(from, _compactedRevision));
                    return watcher;
                }

                foreach (var e in _history.Where(e => e.ResourceVersion > from))
                {
                    watcher.Offer(e);
                }
            }

            _watchers.Add(watcher);
            return watcher;
        }
    }

    public void StopWatch(Watcher watcher)
    {
        lock (_gate)
        {
            _watchers.Remove(watcher);
            watcher.Close();
        }
    }

    public void Bookmark(Watcher watcher)
    {
        lock (_gate)
        {
            if (_watchers.Contains(watcher))
            {
                watcher.Bookmark(_revision);
            }
        }
    }

    public int DropWatches()
    {
        lock (_gate)
        {
            var count = _watchers.Count;
            foreach (var w in _watchers)
            {
                w.Close();
            }

            _watchers.Clear();
            return count;
        }
    }

    /// <summary>Acts like an etcd compaction of everything: every revision handed out so far becomes too old.</summary>
    public void ExpireHistory()
    {
        lock (_gate)
        {
            _history.Clear();
            _revision++;
            _compactedRevision = _revision;
        }
    }

    public JsonObject Export()
    {
        lock (_gate)
        {
            var items = new JsonArray();
            foreach (var (storageKey, bucket) in _objects.OrderBy(kv => kv.Key == _registry.Crds.StorageKey ? 0 : 1))
            {
                foreach (var obj in bucket.Values)
                {
                    items.Add(new JsonObject { ["storageKey"] = storageKey, ["object"] = obj.DeepClone() });
                }
            }

            return new JsonObject { ["revision"] = _revision, ["items"] = items };
        }
    }

    public void Import(JsonObject state)
    {
        lock (_gate)
        {
            _objects.Clear();
            _byUid.Clear();
            _history.Clear();
            foreach (var item in (state["items"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var storageKey = JsonUtil.Str(item["storageKey"])!;
                var obj = (JsonObject)item["object"]!.DeepClone();
                var key = Key(JsonUtil.Namespace(obj), JsonUtil.Name(obj)!);
                Bucket(storageKey)[key] = obj;
                _byUid[JsonUtil.Uid(obj)!] = (storageKey, key);
                if (storageKey == _registry.Crds.StorageKey)
                {
                    _registry.Register(obj);
                }
            }

            _revision = Math.Max(_revision, JsonUtil.Long(state["revision"]) ?? 1) + 1;
            _compactedRevision = _revision;
        }
    }
}
