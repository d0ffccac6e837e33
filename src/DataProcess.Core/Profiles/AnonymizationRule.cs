namespace DataProcess.Core.Profiles;

/// <summary>How a personal field is made safe.</summary>
internal enum AnonymizationMethod
{
    /// <summary>Keyed HMAC-SHA256 pseudonym (lowercase hex): deterministic for a key, so joins still work.</summary>
    Hash,

    /// <summary>Every character but the last four replaced by '*'; four or fewer: all replaced.</summary>
    Mask,

    /// <summary>The field is removed.</summary>
    Redact,

    /// <summary>A date of any common format becomes its year (a number).</summary>
    Year,

    /// <summary>An IPv4 address becomes its /24 network, an IPv6 address its /48 network.</summary>
    IpPrefix,
}

/// <summary>Anonymizes the value(s) at <paramref name="Path"/> with <paramref name="Method"/>.</summary>
internal sealed record AnonymizationRule(FieldPath Path, AnonymizationMethod Method);
