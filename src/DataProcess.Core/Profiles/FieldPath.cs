using System.Text;

namespace DataProcess.Core.Profiles;

/// <summary>
/// A path to a field inside a record: dotted names, with <c>[*]</c> for every element of an array
/// (<c>address.city</c>, <c>friends[*].phone</c>, <c>tags[*]</c>).
/// </summary>
internal sealed class FieldPath : IEquatable<FieldPath>
{
    private FieldPath(string text, IReadOnlyList<PathSegment> segments)
    {
        Text = text;
        Segments = segments;
    }

    public string Text { get; }

    public IReadOnlyList<PathSegment> Segments { get; }

    public bool HasWildcard => Segments.Any(s => s.IsWildcard);

    /// <summary>The name of the top-level field the path starts at.</summary>
    public string Head => Segments[0].Name!;

    public static bool TryParse(string? text, out FieldPath path, out string error)
    {
        path = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the path is empty";
            return false;
        }

        var segments = new List<PathSegment>();
        var name = new StringBuilder();
        var i = 0;
        var expectName = true;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '.')
            {
                if (expectName && name.Length == 0)
                {
                    error = $"'{text}' has an empty name at character {i + 1}";
                    return false;
                }

                Flush();
                expectName = true;
                i++;
            }
            else if (c == '[')
            {
                if (text.AsSpan(i).StartsWith("[*]", StringComparison.Ordinal))
                {
                    if (name.Length == 0 && segments.Count == 0)
                    {
                        error = $"'{text}' starts with [*]; a path starts with a field name";
                        return false;
                    }

                    Flush();
                    segments.Add(PathSegment.Wildcard);
                    expectName = false;
                    i += 3;
                    if (i < text.Length && text[i] != '.' && text[i] != '[')
                    {
                        error = $"'{text}' needs a '.' after [*] at character {i + 1}";
                        return false;
                    }
                }
                else
                {
                    error = $"'{text}' has an unsupported index at character {i + 1}; only [*] is supported";
                    return false;
                }
            }
            else if (c == ']' || c == '$' || c == '*' || char.IsControl(c) || char.IsWhiteSpace(c))
            {
                error = $"'{text}' has an unexpected '{c}' at character {i + 1}";
                return false;
            }
            else
            {
                name.Append(c);
                i++;
            }
        }

        if (expectName && name.Length == 0)
        {
            error = $"'{text}' ends with an empty name";
            return false;
        }

        Flush();
        path = new FieldPath(text, segments);
        error = string.Empty;
        return true;

        void Flush()
        {
            if (name.Length > 0)
            {
                segments.Add(PathSegment.Field(name.ToString()));
                name.Clear();
            }
        }
    }

    /// <summary>True when this path names <paramref name="other"/> or a field inside it.</summary>
    public bool IsWithinOrEqual(FieldPath other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Segments.Count > Segments.Count)
        {
            return false;
        }

        for (var i = 0; i < other.Segments.Count; i++)
        {
            if (!Segments[i].Equals(other.Segments[i]))
            {
                return false;
            }
        }

        return true;
    }

    public bool Equals(FieldPath? other) => other is not null && Segments.SequenceEqual(other.Segments);

    public override bool Equals(object? obj) => Equals(obj as FieldPath);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var segment in Segments)
        {
            hash.Add(segment);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => Text;
}

/// <summary>One step of a <see cref="FieldPath"/>: a field name, or every element of an array.</summary>
internal readonly record struct PathSegment(string? Name)
{
    public static PathSegment Wildcard => default;

    public bool IsWildcard => Name is null;

    public static PathSegment Field(string name) => new(name);

    public override string ToString() => Name ?? "[*]";
}
