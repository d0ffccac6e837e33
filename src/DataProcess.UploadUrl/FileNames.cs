using System.Text;

namespace DataProcess.UploadUrl;

/// <summary>
/// Turns a client's file name into the last segment of a key. Directories are dropped (no
/// traversal: "../../x.json" becomes "x.json"), every character outside <c>[A-Za-z0-9._-]</c> becomes
/// "_", leading dots and separators go (no hidden names), and the stem is cut so the name has at most
/// <see cref="MaxLength"/> characters. Control characters are refused, not replaced.
/// </summary>
internal static class FileNames
{
    public const int MaxLength = 100;
    public const int MaxInputLength = 1024;

    public static readonly IReadOnlyList<string> Extensions = [".json", ".ndjson", ".jsonl"];

    /// <summary>The sanitised name, or the reason it is refused.</summary>
    public static (string? Name, string? Problem) Sanitise(string fileName)
    {
        if (fileName.Length > MaxInputLength)
        {
            return (null, $"filename is longer than {MaxInputLength} characters");
        }

        if (fileName.Any(char.IsControl))
        {
            return (null, "filename contains control characters");
        }

        var last = fileName[(fileName.LastIndexOfAny(['/', '\\']) + 1)..];
        var builder = new StringBuilder(last.Length);
        foreach (var c in last)
        {
            var safe = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '-' or '_' ? c : '_';
            if (safe == '_' && builder.Length > 0 && builder[^1] == '_')
            {
                continue;
            }

            builder.Append(safe);
        }

        var name = builder.ToString().TrimStart('.', '_', '-');
        var extension = Extensions.FirstOrDefault(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
        if (extension is null)
        {
            return (null, $"filename must end in {string.Join(", ", Extensions)}");
        }

        var stem = name[..^extension.Length].TrimEnd('.', '_', '-');
        if (stem.Length == 0)
        {
            return (null, "filename has no name before its extension");
        }

        if (stem.Length + extension.Length > MaxLength)
        {
            stem = stem[..(MaxLength - extension.Length)];
        }

        return (stem + extension.ToLowerInvariant(), null);
    }
}
