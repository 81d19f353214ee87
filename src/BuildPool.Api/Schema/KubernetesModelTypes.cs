using System.Reflection;
using BuildPool.Api.V1Alpha1;
using k8s.Models;

namespace BuildPool.Api.Schema;

/// <summary>
/// The Kubernetes model types whose own schemas are embedded in our CRDs (affinity,
/// tolerations, resources), so the embedded description excerpt holds exactly their docs.
/// </summary>
internal static class KubernetesModelTypes
{
    /// <summary>Model types with a hand-written schema instead of a reflected one.</summary>
    internal static readonly IReadOnlySet<Type> Special = new HashSet<Type>
    {
        typeof(V1ObjectMeta), typeof(V1ListMeta), typeof(V1Condition), typeof(ResourceQuantity), typeof(IntOrString),
    };

    internal static IReadOnlyList<Type> Reachable()
    {
        var seen = new HashSet<Type>();
        var modelTypes = new SortedDictionary<string, Type>(StringComparer.Ordinal);
        var pending = new Stack<Type>(CrdGenerator.EntityTypes);
        while (pending.Count > 0)
        {
            var type = pending.Pop();
            if (!seen.Add(type))
            {
                continue;
            }

            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                foreach (var candidate in Unwrap(property.PropertyType))
                {
                    if (Special.Contains(candidate))
                    {
                        continue;
                    }

                    if (candidate.Namespace == typeof(V1Affinity).Namespace)
                    {
                        modelTypes[candidate.FullName!] = candidate;
                        pending.Push(candidate);
                    }
                    else if (candidate.Namespace == typeof(BuilderPool).Namespace)
                    {
                        pending.Push(candidate);
                    }
                }
            }
        }

        return [.. modelTypes.Values];
    }

    private static IEnumerable<Type> Unwrap(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            yield return underlying;
        }
        else if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                foreach (var inner in Unwrap(argument))
                {
                    yield return inner;
                }
            }
        }
        else
        {
            yield return type;
        }
    }
}
