namespace DataProcess.Core.Records;

/// <summary>The layout the reader found the records in.</summary>
internal enum InputShape
{
    /// <summary>Not decided yet: nothing has been read.</summary>
    Unknown,

    /// <summary>The document is an array of records.</summary>
    TopLevelArray,

    /// <summary>The records are an array at a property path of the top-level object (<c>$.result</c>).</summary>
    ArrayAtPath,

    /// <summary>One JSON value per line (whitespace-separated values are accepted too).</summary>
    Ndjson,
}
