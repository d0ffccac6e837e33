namespace DataProcess.Core.Payloads;

/// <summary>Where objects live in the input bucket (the same prefixes the Terraform scopes its policies to).</summary>
public static class KeyLayout
{
    /// <summary>Uploads land here; an object created under it starts a run.</summary>
    public const string IncomingPrefix = "incoming/";

    /// <summary>The failure path moves a source it could not load here (<c>incoming/x</c> → <c>quarantine/x</c>).</summary>
    internal const string QuarantinePrefix = "quarantine/";
}
