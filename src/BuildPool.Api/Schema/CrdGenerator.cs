using System.Reflection;
using System.Text;
using BuildPool.Api.V1Alpha1;
using k8s;
using k8s.Models;

namespace BuildPool.Api.Schema;

/// <summary>
/// Generates the CustomResourceDefinitions of the buildpool.dev API from the types in
/// <see cref="V1Alpha1"/>: schema from System.Text.Json's exporter made structural,
/// descriptions from the XML docs, validation and printer columns from the attributes.
/// </summary>
public static class CrdGenerator
{
    /// <summary>The entity types a CRD is generated for, in file order.</summary>
    public static IReadOnlyList<Type> EntityTypes { get; } =
    [
        typeof(BuilderPool),
        typeof(CacheVolume),
        typeof(RegistryCacheTarget),
        typeof(SecretBinding),
    ];

    /// <summary>Header written at the top of every generated file.</summary>
    public const string FileHeader = "# Generated from the BuildPool.Api types by CrdGenerator. Do not edit; run `make manifests`.\n";

    /// <summary>One CRD per kind, built fresh on every call.</summary>
    public static IReadOnlyList<V1CustomResourceDefinition> Generate() =>
        [.. EntityTypes.Select(t => Generate(t, XmlDocumentation.Default))];

    /// <summary>
    /// File name (<c>group_plural.yaml</c>, as controller-gen names them) to YAML text for each
    /// CRD, ordered by file name. The text is byte-for-byte stable for unchanged types, so CI can
    /// diff it against the checked-in <c>crds/</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> GenerateYamlFiles()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var crd in Generate())
        {
            files[FileName(crd)] = ToYaml(crd);
        }

        return files;
    }

    /// <summary>The file name of a CRD: <c>buildpool.dev_builderpools.yaml</c>.</summary>
    public static string FileName(V1CustomResourceDefinition crd)
    {
        ArgumentNullException.ThrowIfNull(crd);
        return $"{crd.Spec.Group}_{crd.Spec.Names.Plural}.yaml";
    }

    /// <summary>The YAML text of a CRD, with the generated-file header.</summary>
    public static string ToYaml(V1CustomResourceDefinition crd)
    {
        var yaml = KubernetesYaml.Serialize(crd).Replace("\r\n", "\n", StringComparison.Ordinal);
        var text = new StringBuilder(FileHeader.Length + yaml.Length + 1).Append(FileHeader).Append(yaml);
        if (!yaml.EndsWith('\n'))
        {
            text.Append('\n');
        }

        return text.ToString();
    }

    internal static V1CustomResourceDefinition Generate(Type entityType, XmlDocumentation docs)
    {
        var entity = entityType.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{entityType.Name} has no [KubernetesEntity].");
        var schema = SchemaPropsConverter.Convert(StructuralSchemaBuilder.Build(entityType, docs));
        var shortNames = entityType.GetCustomAttributes<ShortNameAttribute>().Select(a => a.Name).ToList();
        var categories = entityType.GetCustomAttribute<CategoriesAttribute>()?.Categories.ToList();
        var columns = entityType.GetCustomAttributes<PrinterColumnAttribute>()
            .Select(c => new V1CustomResourceColumnDefinition
            {
                Name = c.Name,
                JsonPath = c.JsonPath,
                Type = c.Type,
                Priority = c.Priority == 0 ? null : c.Priority,
                Description = c.Description,
                Format = c.Format,
            })
            .ToList();

        return new V1CustomResourceDefinition
        {
            ApiVersion = "apiextensions.k8s.io/v1",
            Kind = "CustomResourceDefinition",
            Metadata = new V1ObjectMeta { Name = $"{entity.PluralName}.{entity.Group}" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = entity.Group,
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames
                {
                    Kind = entity.Kind,
                    ListKind = entity.Kind + "List",
                    Plural = entity.PluralName,
                    Singular = entity.Kind.ToLowerInvariant(),
                    ShortNames = shortNames.Count > 0 ? shortNames : null,
                    Categories = categories is { Count: > 0 } ? categories : null,
                },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = entity.ApiVersion,
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation { OpenAPIV3Schema = schema },
                        Subresources = new V1CustomResourceSubresources { Status = new Dictionary<string, object>() },
                        AdditionalPrinterColumns = columns.Count > 0 ? columns : null,
                    },
                ],
            },
        };
    }
}
