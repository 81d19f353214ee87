using System.Text;

namespace BuildPool.BuildKit.Wire;

/// <summary>
/// Reads the routing-relevant fields of a serialized <c>moby.buildkit.v1.SolveRequest</c>
/// (field numbers in BUILDKIT-FACTS.md) straight from the wire. Both exporter encodings are
/// accepted: fields 3/4 (BuildKit before the multi-exporter change) and repeated field 13.
/// </summary>
public static class SolveRequestParser
{
    private const int RefField = 1;
    private const int ExporterDeprecatedField = 3;
    private const int ExporterAttrsDeprecatedField = 4;
    private const int SessionField = 5;
    private const int FrontendAttrsField = 7;
    private const int CacheField = 8;
    private const int ExportersField = 13;
    private const int CacheExportsField = 4;
    private const int CacheImportsField = 5;
    private const int EntryTypeField = 1;
    private const int EntryAttrsField = 2;

    /// <summary>
    /// Parses <paramref name="message"/>; false (and empty fields) when it is not a well-formed
    /// protobuf message. Only the strings that are found are allocated.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out SolveRequestFields fields)
    {
        fields = default;
        var reader = new ProtoReader(message);
        ReadOnlySpan<byte> reference = default;
        ReadOnlySpan<byte> session = default;
        ReadOnlySpan<byte> legacyExporter = default;
        ReadOnlySpan<byte> legacyName = default;
        ReadOnlySpan<byte> exporterName = default;
        ReadOnlySpan<byte> cacheExportRef = default;
        ReadOnlySpan<byte> cacheImportRef = default;
        ReadOnlySpan<byte> noCache = default;
        var noCacheAsked = false;

        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            if (wireType != ProtoWireType.LengthDelimited)
            {
                if (!reader.TrySkip(wireType))
                {
                    return false;
                }

                continue;
            }

            if (!reader.TryReadLengthDelimited(out var payload))
            {
                return false;
            }

            switch (field)
            {
                case RefField:
                    reference = payload;
                    break;
                case SessionField:
                    session = payload;
                    break;
                case ExporterDeprecatedField:
                    legacyExporter = payload;
                    break;
                case ExporterAttrsDeprecatedField:
                    if (!TryReadMapEntry(payload, out var key, out var value))
                    {
                        return false;
                    }

                    // Map semantics: a repeated key's last entry wins.
                    if (key.SequenceEqual("name"u8))
                    {
                        legacyName = value;
                    }

                    break;
                case ExportersField:
                    if (!TryReadEntry(payload, "name"u8, out var type, out var name))
                    {
                        return false;
                    }

                    if (exporterName.IsEmpty && IsImageExporter(type) && !FirstImageName(name).IsEmpty)
                    {
                        exporterName = name;
                    }

                    break;
                case FrontendAttrsField:
                    if (!TryReadMapEntry(payload, out var attribute, out var setting))
                    {
                        return false;
                    }

                    // --no-cache sends "no-cache" empty (every stage), --no-cache-filter a stage list.
                    if (attribute.SequenceEqual("no-cache"u8))
                    {
                        noCacheAsked = true;
                        noCache = setting;
                    }

                    break;
                case CacheField:
                    if (!TryReadCacheOptions(payload, ref cacheExportRef, ref cacheImportRef))
                    {
                        return false;
                    }

                    break;
            }
        }

        // Field 3 may come after field 4 on the wire, so the legacy pair is judged at the end.
        if (exporterName.IsEmpty && IsImageExporter(legacyExporter))
        {
            exporterName = legacyName;
        }

        var cacheRef = cacheExportRef.IsEmpty ? cacheImportRef : cacheExportRef;
        fields = new SolveRequestFields(
            NullIfEmpty(reference),
            NullIfEmpty(session),
            NullIfEmpty(Repository(FirstImageName(exporterName))),
            NullIfEmpty(Repository(Trim(cacheRef))))
        {
            NoCache = noCacheAsked ? Encoding.UTF8.GetString(noCache) : null,
        };
        return true;
    }

    /// <summary>
    /// Drops the tag and digest of an image reference: <c>registry:5000/team/app:1.2@sha256:…</c>
    /// becomes <c>registry:5000/team/app</c>. Builds of one project push many tags; their cache
    /// is the same.
    /// </summary>
    public static ReadOnlySpan<byte> Repository(ReadOnlySpan<byte> reference)
    {
        var at = reference.IndexOf((byte)'@');
        if (at >= 0)
        {
            reference = reference[..at];
        }

        // A colon after the last slash is a tag; one before it is a registry port.
        var slash = reference.LastIndexOf((byte)'/');
        var colon = reference.LastIndexOf((byte)':');
        if (colon > slash)
        {
            reference = reference[..colon];
        }

        return reference;
    }

    private static bool IsImageExporter(ReadOnlySpan<byte> type) =>
        // docker and oci exporters carry the same `name` attribute (buildx --load uses docker),
        // so they name the project just as well as image/registry do.
        type.SequenceEqual("image"u8) || type.SequenceEqual("registry"u8) ||
        type.SequenceEqual("docker"u8) || type.SequenceEqual("oci"u8);

    // `name` may list several comma-separated references; the first one names the project.
    private static ReadOnlySpan<byte> FirstImageName(ReadOnlySpan<byte> names)
    {
        while (!names.IsEmpty)
        {
            var comma = names.IndexOf((byte)',');
            var first = Trim(comma < 0 ? names : names[..comma]);
            if (!first.IsEmpty)
            {
                return first;
            }

            names = comma < 0 ? default : names[(comma + 1)..];
        }

        return default;
    }

    private static bool TryReadCacheOptions(ReadOnlySpan<byte> cache, ref ReadOnlySpan<byte> exportRef, ref ReadOnlySpan<byte> importRef)
    {
        var reader = new ProtoReader(cache);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            if (wireType != ProtoWireType.LengthDelimited || field is not (CacheExportsField or CacheImportsField))
            {
                if (!reader.TrySkip(wireType))
                {
                    return false;
                }

                continue;
            }

            if (!reader.TryReadLengthDelimited(out var entry) || !TryReadEntry(entry, "ref"u8, out _, out var reference))
            {
                return false;
            }

            reference = Trim(reference);
            if (field == CacheExportsField && exportRef.IsEmpty)
            {
                exportRef = reference;
            }
            else if (field == CacheImportsField && importRef.IsEmpty)
            {
                importRef = reference;
            }
        }

        return true;
    }

    // An ExporterEntry / CacheOptionsEntry: {1 Type, 2 Attrs map<string,string>}.
    internal static bool TryReadEntry(ReadOnlySpan<byte> entry, ReadOnlySpan<byte> attribute, out ReadOnlySpan<byte> type, out ReadOnlySpan<byte> value)
    {
        type = default;
        value = default;
        var reader = new ProtoReader(entry);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            if (wireType != ProtoWireType.LengthDelimited)
            {
                if (!reader.TrySkip(wireType))
                {
                    return false;
                }

                continue;
            }

            if (!reader.TryReadLengthDelimited(out var payload))
            {
                return false;
            }

            if (field == EntryTypeField)
            {
                type = payload;
            }
            else if (field == EntryAttrsField)
            {
                if (!TryReadMapEntry(payload, out var key, out var candidate))
                {
                    return false;
                }

                if (key.SequenceEqual(attribute))
                {
                    value = candidate;
                }
            }
        }

        return true;
    }

    private static bool TryReadMapEntry(ReadOnlySpan<byte> entry, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = default;
        value = default;
        var reader = new ProtoReader(entry);
        while (!reader.IsAtEnd)
        {
            if (!reader.TryReadTag(out var field, out var wireType))
            {
                return false;
            }

            if (wireType == ProtoWireType.LengthDelimited && field is 1 or 2)
            {
                if (!reader.TryReadLengthDelimited(out var payload))
                {
                    return false;
                }

                if (field == 1)
                {
                    key = payload;
                }
                else
                {
                    value = payload;
                }
            }
            else if (!reader.TrySkip(wireType))
            {
                return false;
            }
        }

        return true;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value.Trim((byte)' ');

    private static string? NullIfEmpty(ReadOnlySpan<byte> value) => value.IsEmpty ? null : Encoding.UTF8.GetString(value);
}
