using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text;
using System.Xml.Linq;

namespace BuildPool.Api.Schema;

/// <summary>
/// Summaries from compiler XML documentation files, keyed by documentation member id
/// (<c>T:Ns.Type</c>, <c>P:Ns.Type.Property</c>, <c>F:Ns.Enum.Member</c>).
/// </summary>
internal sealed class XmlDocumentation
{
    internal const string ApiDocFileName = "BuildPool.Api.xml";
    internal const string KubernetesModelDocsResource = "BuildPool.Api.KubernetesModelDocs.xml";

    private readonly Dictionary<string, string> _summaries;

    private XmlDocumentation(Dictionary<string, string> summaries) => _summaries = summaries;

    private static readonly Lazy<XmlDocumentation> s_default = new(LoadDefault);

    /// <summary>Our own docs next to the assembly plus the embedded Kubernetes model excerpt.</summary>
    internal static XmlDocumentation Default => s_default.Value;

    internal static XmlDocumentation FromDocuments(params XDocument[] documents)
    {
        var summaries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            foreach (var member in document.Descendants("member"))
            {
                var name = (string?)member.Attribute("name");
                var summary = member.Element("summary");
                if (name is not null && summary is not null)
                {
                    summaries[name] = Normalize(summary);
                }
            }
        }

        return new XmlDocumentation(summaries);
    }

    internal string? Summary(MemberInfo member) =>
        _summaries.TryGetValue(MemberId(member), out var text) && text.Length > 0 ? text : null;

    internal static string MemberId(MemberInfo member) => member switch
    {
        Type type => "T:" + TypeName(type),
        PropertyInfo property => "P:" + TypeName(property.DeclaringType!) + "." + property.Name,
        FieldInfo field => "F:" + TypeName(field.DeclaringType!) + "." + field.Name,
        _ => throw new ArgumentException($"No documentation id for {member.MemberType} {member.Name}.", nameof(member)),
    };

    private static string TypeName(Type type) => (type.FullName ?? type.Name).Replace('+', '.');

    private static XmlDocumentation LoadDefault()
    {
        var assembly = typeof(XmlDocumentation).Assembly;
        using var embedded = assembly.GetManifestResourceStream(KubernetesModelDocsResource)
            ?? throw new InvalidOperationException($"Embedded resource {KubernetesModelDocsResource} is missing from {assembly.GetName().Name}.");
        var kubernetes = XDocument.Load(embedded);

        var path = FindApiDocFile(assembly)
            ?? throw new InvalidOperationException(
                $"{ApiDocFileName} was not found next to {assembly.GetName().Name}.dll or in {AppContext.BaseDirectory}. " +
                "CRD descriptions come from it: build BuildPool.Api with GenerateDocumentationFile and keep the .xml next to the assembly when publishing.");
        return FromDocuments(kubernetes, XDocument.Load(path));
    }

    [UnconditionalSuppressMessage("SingleFile", "IL3000:Avoid accessing Assembly file path when publishing as a single file",
        Justification = "An empty Location is handled: single-file apps find the .xml in AppContext.BaseDirectory.")]
    private static string? FindApiDocFile(Assembly assembly)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(assembly.Location))
        {
            candidates.Add(Path.ChangeExtension(assembly.Location, ".xml"));
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, ApiDocFileName));
        return candidates.FirstOrDefault(File.Exists);
    }

    // kubectl explain shows the text as is, so cref markup becomes the bare name and line
    // wrapping from the source comment is undone; blank lines (paragraphs) are kept.
    private static string Normalize(XElement summary)
    {
        var text = new StringBuilder();
        foreach (var node in summary.Nodes())
        {
            Append(text, node);
        }

        var paragraphs = text.ToString()
            .Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(p => string.Join(' ', p.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))
            .Where(p => p.Length > 0);
        return string.Join("\n\n", paragraphs);
    }

    private static void Append(StringBuilder text, XNode node)
    {
        switch (node)
        {
            case XText t:
                text.Append(t.Value);
                break;
            case XElement { Name.LocalName: "see" or "seealso" } e:
                var reference = (string?)e.Attribute("cref") ?? (string?)e.Attribute("langword") ?? (string?)e.Attribute("href") ?? "";
                text.Append(e.IsEmpty ? reference[(reference.LastIndexOf('.') + 1)..] : e.Value);
                break;
            case XElement { Name.LocalName: "para" } e:
                text.Append("\n\n");
                foreach (var child in e.Nodes())
                {
                    Append(text, child);
                }

                text.Append("\n\n");
                break;
            case XElement e:
                foreach (var child in e.Nodes())
                {
                    Append(text, child);
                }

                break;
        }
    }
}
