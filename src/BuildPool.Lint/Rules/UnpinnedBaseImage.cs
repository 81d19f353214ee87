using System.Text;
using BuildPool.Lint.Parsing;

namespace BuildPool.Lint.Rules;

/// <summary>A FROM image without a tag, or with <c>:latest</c>: what it means changes under the cache.</summary>
internal sealed class UnpinnedBaseImage : ILintRule
{
    public const string Id = "unpinned-base-image";

    public IEnumerable<Finding> Check(LintInput input)
    {
        var globals = input.File.GlobalArgs.SelectMany(a => a.Assignments).GroupBy(a => a.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        foreach (var stage in input.File.Stages)
        {
            if (stage.BaseImage.Equals("scratch", StringComparison.OrdinalIgnoreCase) || input.File.StageNamed(stage.BaseImage, stage.Index) is not null)
            {
                continue;
            }

            var image = Expand(stage.BaseImage, globals);
            if (image is null || image.Length == 0 || image.Contains('@', StringComparison.Ordinal) || input.File.StageNamed(image, stage.Index) is not null)
            {
                continue;
            }

            var lastSlash = image.LastIndexOf('/');
            var colon = image.LastIndexOf(':');
            var tag = colon > lastSlash ? image[(colon + 1)..] : null;
            if (tag is null || tag == "latest")
            {
                yield return new Finding(
                    Id,
                    Severity.Warning,
                    stage.From.Line,
                    tag is null ? $"base image {image} has no tag (it means :latest)" : $"base image {image} is not pinned",
                    "the builder keeps using the image it resolved first while :latest moves on (a stale import), or a new resolve brings a different image and every step of the stage re-runs unannounced",
                    $"pin a version tag ({image.Split(':')[0]}:<version>), or a digest (@sha256:…) kept current by a dependency bot");
            }
        }
    }

    /// <summary>$NAME, ${NAME} and ${NAME:-default} from the global ARGs; null when a name has no value.</summary>
    internal static string? Expand(string text, IReadOnlyDictionary<string, string?> args)
    {
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '$' || i + 1 >= text.Length)
            {
                result.Append(text[i]);
                continue;
            }

            string name;
            string? fallback = null;
            if (text[i + 1] == '{')
            {
                var close = text.IndexOf('}', i);
                if (close < 0)
                {
                    return null;
                }

                var inner = text[(i + 2)..close];
                var dash = inner.IndexOf(":-", StringComparison.Ordinal);
                (name, fallback) = dash >= 0 ? (inner[..dash], inner[(dash + 2)..]) : (inner, null);
                i = close;
            }
            else
            {
                var end = i + 1;
                while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_'))
                {
                    end++;
                }

                name = text[(i + 1)..end];
                i = end - 1;
            }

            var value = args.GetValueOrDefault(name);
            value = string.IsNullOrEmpty(value) ? fallback : value;
            if (value is null)
            {
                return null;
            }

            result.Append(value);
        }

        return result.ToString();
    }
}
