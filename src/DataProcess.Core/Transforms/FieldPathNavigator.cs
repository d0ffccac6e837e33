using System.Text.Json.Nodes;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Transforms;

/// <summary>Receives each value a <see cref="FieldPath"/> names. Return false to stop the walk.</summary>
internal interface IFieldVisitor
{
    bool Visit(FieldSlot slot);
}

/// <summary>Where a value lives: a property of an object or an element of an array. Lets a visitor replace or remove it.</summary>
internal readonly struct FieldSlot
{
    private readonly JsonObject? _object;
    private readonly string? _name;
    private readonly JsonArray? _array;
    private readonly int _index;

    public FieldSlot(JsonObject parent, string name, JsonNode? value)
    {
        _object = parent;
        _name = name;
        Value = value;
    }

    public FieldSlot(JsonArray parent, int index, JsonNode? value)
    {
        _array = parent;
        _index = index;
        Value = value;
    }

    /// <summary>The value as found; a JSON null is a present slot with a null value.</summary>
    public JsonNode? Value { get; }

    public void Replace(JsonNode? value)
    {
        if (_object is not null)
        {
            _object[_name!] = value;
        }
        else
        {
            _array![_index] = value;
        }
    }

    public void Remove()
    {
        if (_object is not null)
        {
            _object.Remove(_name!);
        }
        else
        {
            _array!.RemoveAt(_index);
        }
    }
}

/// <summary>
/// Walks a record along a <see cref="FieldPath"/>. A step that is missing, null or of the wrong
/// container type means the path names nothing in this record: that is not an error, because profiles
/// describe optional data. In particular <c>[*]</c> on a value that is not an array visits nothing.
/// </summary>
internal static class FieldPathNavigator
{
    /// <summary>Visits every value the path names, expanding each <c>[*]</c>. False when the visitor stopped the walk.</summary>
    public static bool VisitAll<TVisitor>(JsonObject record, PathSegment[] segments, ref TVisitor visitor)
        where TVisitor : struct, IFieldVisitor
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(segments);
        return segments.Length == 0 || Walk(record, segments, 0, ref visitor);
    }

    /// <summary>
    /// The single value a path without <c>[*]</c> names. False when it is absent (a JSON null is present);
    /// a path with <c>[*]</c> names no single value and is also false.
    /// </summary>
    public static bool TryGetSingle(JsonObject record, PathSegment[] segments, out JsonNode? value)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(segments);
        value = null;
        JsonNode? current = record;
        foreach (var segment in segments)
        {
            if (segment.IsWildcard || current is not JsonObject obj || !obj.TryGetPropertyValue(segment.Name!, out current))
            {
                value = null;
                return false;
            }
        }

        value = current;
        return segments.Length > 0;
    }

    private static bool Walk<TVisitor>(JsonNode container, PathSegment[] segments, int index, ref TVisitor visitor)
        where TVisitor : struct, IFieldVisitor
    {
        var segment = segments[index];
        var isLast = index == segments.Length - 1;
        if (segment.IsWildcard)
        {
            if (container is not JsonArray array)
            {
                return true;
            }

            for (var i = 0; i < array.Count; i++)
            {
                var element = array[i];
                if (isLast)
                {
                    var count = array.Count;
                    if (!visitor.Visit(new FieldSlot(array, i, element)))
                    {
                        return false;
                    }

                    // The visitor removed this element: the next one has moved into its index.
                    if (array.Count < count)
                    {
                        i--;
                    }
                }
                else if (element is not null && !Walk(element, segments, index + 1, ref visitor))
                {
                    return false;
                }
            }

            return true;
        }

        if (container is not JsonObject obj || !obj.TryGetPropertyValue(segment.Name!, out var child))
        {
            return true;
        }

        if (isLast)
        {
            return visitor.Visit(new FieldSlot(obj, segment.Name!, child));
        }

        return child is null || Walk(child, segments, index + 1, ref visitor);
    }
}
