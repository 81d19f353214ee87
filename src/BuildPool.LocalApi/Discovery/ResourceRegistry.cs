using System.Text.Json.Nodes;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Discovery;

/// <summary>
/// The served resources: built-ins registered at start plus one entry per served CRD version.
/// Reads vastly outnumber CRD changes, so lookups go through an immutable snapshot swapped atomically.
/// </summary>
internal sealed class ResourceRegistry
{
    private static readonly string[] ClusterScoped = ["namespaces", "clusterroles", "clusterrolebindings", "storageclasses", "customresourcedefinitions"];

    private readonly Lock _gate = new();
    private IReadOnlyList<ResourceType> _all = [];

    /// <param name="kubernetesVersion">The version the server pretends to be: built-ins it did not serve yet are served under their older version.</param>
    public ResourceRegistry(Version? kubernetesVersion = null)
    {
        var list = new List<ResourceType>();
        void Add(string group, string plural, string kind, string[]? shortNames = null, bool status = false, string[]? categories = null, PrinterColumn[]? columns = null, string version = "v1") =>
            list.Add(new ResourceType
            {
                Group = group,
                Version = version,
                Plural = plural,
                Singular = kind.ToLowerInvariant(),
                Kind = kind,
                Namespaced = !ClusterScoped.Contains(plural),
                ShortNames = shortNames ?? [],
                HasStatus = status,
                Categories = categories ?? [],
                PrinterColumns = columns ?? [],
            });

        Add("", "namespaces", "Namespace", ["ns"], status: true, columns: [new("Status", "string", ".status.phase")]);
        Add("", "configmaps", "ConfigMap", ["cm"]);
        Add("", "secrets", "Secret", columns: [new("Type", "string", ".type")]);
        Add("", "services", "Service", ["svc"], status: true, ["all"], [new("Type", "string", ".spec.type"), new("Cluster-IP", "string", ".spec.clusterIP")]);
        Add("", "serviceaccounts", "ServiceAccount", ["sa"]);
        Add("", "persistentvolumeclaims", "PersistentVolumeClaim", ["pvc"], status: true, columns: [new("Status", "string", ".status.phase"), new("Capacity", "string", ".status.capacity.storage"), new("StorageClass", "string", ".spec.storageClassName")]);
        Add("", "pods", "Pod", ["po"], status: true, ["all"], [new("Status", "string", ".status.phase"), new("IP", "string", ".status.podIP", Priority: 1), new("Node", "string", ".spec.nodeName", Priority: 1)]);
        Add("", "events", "Event", ["ev"], columns: [new("Type", "string", ".type"), new("Reason", "string", ".reason"), new("Message", "string", ".message")]);
        Add("", "endpoints", "Endpoints", ["ep"]);
        Add("apps", "deployments", "Deployment", ["deploy"], status: true, ["all"],
            [
                new("Ready", "string", ".status.readyReplicas")
                {
                    Compute = d => $"{JsonUtil.Long(d["status"]?["readyReplicas"]) ?? 0}/{JsonUtil.Long(d["spec"]?["replicas"]) ?? 1}",
                },
                new("Up-to-date", "integer", ".status.updatedReplicas") { Compute = d => JsonUtil.Long(d["status"]?["updatedReplicas"]) ?? 0 },
                new("Available", "integer", ".status.availableReplicas") { Compute = d => JsonUtil.Long(d["status"]?["availableReplicas"]) ?? 0 },
            ]);
        Add("rbac.authorization.k8s.io", "roles", "Role");
        Add("rbac.authorization.k8s.io", "rolebindings", "RoleBinding");
        Add("rbac.authorization.k8s.io", "clusterroles", "ClusterRole");
        Add("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding");
        // policy/v1 arrived in 1.21; a 1.20 server answers 404 for it, which is what the operator's version gate must meet.
        Add("policy", "poddisruptionbudgets", "PodDisruptionBudget", ["pdb"], status: true,
            version: kubernetesVersion is { Major: 1, Minor: < 21 } ? "v1beta1" : "v1");
        Add("networking.k8s.io", "networkpolicies", "NetworkPolicy", ["netpol"]);
        Add("coordination.k8s.io", "leases", "Lease", columns: [new("Holder", "string", ".spec.holderIdentity")]);
        Add("events.k8s.io", "events", "Event", ["ev"]);
        Add("storage.k8s.io", "storageclasses", "StorageClass", ["sc"], columns: [new("Provisioner", "string", ".provisioner")]);
        Add("apiextensions.k8s.io", "customresourcedefinitions", "CustomResourceDefinition", ["crd", "crds"], status: true,
            columns: [new("Created At", "date", ".metadata.creationTimestamp")]);
        _all = list;
    }

    public IReadOnlyList<ResourceType> All => Volatile.Read(ref _all);

    public ResourceType Crds => Find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!;

    public ResourceType Namespaces => Find("", "v1", "namespaces")!;

    public ResourceType? Find(string group, string version, string plural) =>
        All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Plural == plural);

    public IEnumerable<(string Group, IReadOnlyList<string> Versions)> Groups() =>
        All.Where(r => r.Group.Length > 0)
            .GroupBy(r => r.Group)
            .Select(g => (g.Key, (IReadOnlyList<string>)g.OrderByDescending(r => r.Preferred).Select(r => r.Version).Distinct().ToList()));

    /// <summary>Registers (or re-registers) the served versions of a CRD; returns the storage key.</summary>
    public string Register(JsonObject crd)
    {
        var types = FromCrd(crd);
        lock (_gate)
        {
            var key = types.Count > 0 ? types[0].StorageKey : "";
            var keep = _all.Where(r => r.StorageKey != key).ToList();
            keep.AddRange(types);
            Volatile.Write(ref _all, keep);
            return key;
        }
    }

    public void Unregister(string storageKey)
    {
        lock (_gate)
        {
            Volatile.Write(ref _all, _all.Where(r => r.StorageKey != storageKey || !r.IsCustom).ToList());
        }
    }

    public static string CrdStorageKey(JsonObject crd)
    {
        var spec = crd["spec"];
        return $"{JsonUtil.Str(spec?["names"]?["plural"])}.{JsonUtil.Str(spec?["group"])}";
    }

    private static List<ResourceType> FromCrd(JsonObject crd)
    {
        var spec = crd["spec"] as JsonObject ?? [];
        var names = spec["names"] as JsonObject ?? [];
        var group = JsonUtil.Str(spec["group"]) ?? "";
        var kind = JsonUtil.Str(names["kind"]) ?? "";
        var plural = JsonUtil.Str(names["plural"]) ?? kind.ToLowerInvariant() + "s";
        var result = new List<ResourceType>();
        var first = true;
        foreach (var v in (spec["versions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (v["served"]?.GetValueKind() == System.Text.Json.JsonValueKind.False)
            {
                continue;
            }

            var columns = (v["additionalPrinterColumns"] as JsonArray ?? [])
                .OfType<JsonObject>()
                .Select(c => new PrinterColumn(
                    JsonUtil.Str(c["name"]) ?? "",
                    JsonUtil.Str(c["type"]) ?? "string",
                    JsonUtil.Str(c["jsonPath"]) ?? "",
                    JsonUtil.Str(c["format"]),
                    JsonUtil.Str(c["description"]),
                    (int)(JsonUtil.Long(c["priority"]) ?? 0)))
                .ToList();
            result.Add(new ResourceType
            {
                Group = group,
                Version = JsonUtil.Str(v["name"]) ?? "v1",
                Plural = plural,
                Singular = JsonUtil.Str(names["singular"]) ?? kind.ToLowerInvariant(),
                Kind = kind,
                Namespaced = JsonUtil.Str(spec["scope"]) != "Cluster",
                ShortNames = JsonUtil.StringList(names["shortNames"]).ToList(),
                Categories = JsonUtil.StringList(names["categories"]).ToList(),
                HasStatus = v["subresources"]?["status"] is not null,
                IsCustom = true,
                Preferred = first,
                PrinterColumns = columns.Count > 0 ? columns : [new PrinterColumn("Age", "date", ".metadata.creationTimestamp")],
                Schema = (v["schema"]?["openAPIV3Schema"] as JsonObject)?.DeepClone() as JsonObject,
            });
            first = false;
        }

        return result;
    }
}
