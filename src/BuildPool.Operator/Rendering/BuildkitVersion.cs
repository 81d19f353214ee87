using System.Globalization;

namespace BuildPool.Operator.Rendering;

/// <summary>
/// A BuildKit release number read from an image tag such as <c>v0.17.3-rootless</c>. The
/// rendered <c>buildkitd.toml</c> depends on it because GC field names changed in 0.17.
/// </summary>
public readonly record struct BuildkitVersion(int Major, int Minor, int Patch) : IComparable<BuildkitVersion>
{
    /// <summary>The first release with reservedSpace/maxUsedSpace/minFreeSpace and string durations.</summary>
    public static readonly BuildkitVersion ReservedSpaceFields = new(0, 17, 0);

    /// <summary>The first release with the <c>[history]</c> table.</summary>
    public static readonly BuildkitVersion HistoryTable = new(0, 11, 0);

    /// <summary>
    /// Reads a version from a tag: <c>v0.17.3</c>, <c>0.17.3</c>, <c>v0.17</c>, with any suffix
    /// after <c>-</c> or <c>+</c> (<c>-rootless</c>, <c>-rc1</c>). Tags such as <c>latest</c>,
    /// <c>master</c> or <c>buildx-stable-1</c> are not versions.
    /// </summary>
    public static bool TryParse(string? tag, out BuildkitVersion version)
    {
        version = default;
        if (string.IsNullOrEmpty(tag))
        {
            return false;
        }

        var s = tag.AsSpan();
        if (s[0] is 'v' or 'V')
        {
            s = s[1..];
        }

        var end = s.IndexOfAny('-', '+');
        if (end >= 0)
        {
            s = s[..end];
        }

        Span<Range> parts = stackalloc Range[4];
        var count = s.Split(parts, '.');
        if (count is < 2 or > 3)
        {
            return false;
        }

        var numbers = new int[3];
        for (var i = 0; i < count; i++)
        {
            var part = s[parts[i]];
            if (part.IsEmpty || part.Length > 6 || part.IndexOfAnyExceptInRange('0', '9') >= 0)
            {
                return false;
            }

            numbers[i] = int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        version = new BuildkitVersion(numbers[0], numbers[1], numbers[2]);
        return true;
    }

    /// <summary>
    /// The tag of an image reference (<c>moby/buildkit:v0.17.3-rootless</c> → <c>v0.17.3-rootless</c>),
    /// or null when it has none (digest only, or no tag at all). A registry port is not a tag.
    /// </summary>
    public static string? TagOf(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var at = image.IndexOf('@', StringComparison.Ordinal);
        var name = at >= 0 ? image[..at] : image;
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') && colon < name.Length - 1 ? name[(colon + 1)..] : null;
    }

    /// <inheritdoc />
    public int CompareTo(BuildkitVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major)
        : Minor != other.Minor ? Minor.CompareTo(other.Minor)
        : Patch.CompareTo(other.Patch);

    /// <summary>Whether this release is older than <paramref name="other"/>.</summary>
    public bool IsBefore(BuildkitVersion other) => CompareTo(other) < 0;

    /// <summary>The version as BuildKit tags it, like <c>v0.17.3</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"v{Major}.{Minor}.{Patch}");
}
