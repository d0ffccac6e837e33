namespace DataProcess.Differential.Tests.Generation;

/// <summary>
/// A generated JSON value before it is rendered in a layout. Its own tree rather than JsonNode: a record may need
/// two properties of one name, and a number is kept as its value (<see cref="Number.Value"/>, canonical decimal) so
/// each layout can spell it its own way.
/// </summary>
public abstract record Value;

public sealed record Obj(List<(string Name, Value Value)> Properties) : Value
{
    public Obj()
        : this([])
    {
    }

    public Value? this[string name] => Properties.LastOrDefault(p => p.Name == name).Value;

    public void Set(string name, Value value)
    {
        var at = Properties.FindIndex(p => p.Name == name);
        if (at >= 0)
        {
            Properties[at] = (name, value);
        }
        else
        {
            Properties.Add((name, value));
        }
    }
}

public sealed record Arr(List<Value> Items) : Value
{
    public Arr()
        : this([])
    {
    }
}

public sealed record Str(string Text) : Value;

/// <summary>A number by value: plain decimal without exponent or trailing fraction zeros (<c>-0</c> is <c>0</c>).</summary>
public sealed record Number(string Value) : Value;

/// <summary><c>true</c>, <c>false</c> or <c>null</c>.</summary>
public sealed record Literal(string Text) : Value
{
    public static Literal Null { get; } = new("null");
}
