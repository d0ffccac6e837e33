namespace DataProcess.Cli.Samples;

/// <summary>How the generated records are laid out in the file.</summary>
internal enum OutputShape
{
    /// <summary><c>{"meta":{...},"result":[ ... ]}</c>: what a profile with <c>"records": "$.result"</c> reads.</summary>
    WrappedArray,

    /// <summary><c>[ ... ]</c>: what a profile with <c>"records": "$"</c> (or none) reads.</summary>
    TopLevelArray,

    /// <summary>One record per line, no enclosing array.</summary>
    Ndjson,
}

/// <summary>What <see cref="CustomerGenerator"/> writes. At least one of <see cref="Records"/> and <see cref="TargetBytes"/> is required.</summary>
internal sealed record GeneratorOptions
{
    public const double DefaultDuplicateRate = 0.002;

    public const double DefaultInvalidRate = 0.001;

    /// <summary>Seeds <see cref="System.Random"/>: the same seed and options give the same bytes on every run and machine.</summary>
    public int Seed { get; init; }

    /// <summary>How many records (array elements or lines, including duplicates and invalid ones) to write.</summary>
    public long? Records { get; init; }

    /// <summary>Stop after the record that makes the output reach this many bytes.</summary>
    public long? TargetBytes { get; init; }

    public OutputShape Shape { get; init; } = OutputShape.WrappedArray;

    /// <summary>Fraction of records that re-use the id of an earlier valid record with changed fields ("last wins").</summary>
    public double DuplicateRate { get; init; } = DefaultDuplicateRate;

    /// <summary>Fraction of records the pipeline must reject: no <c>email</c>, a null <c>id</c>, or not an object.</summary>
    public double InvalidRate { get; init; } = DefaultInvalidRate;
}

/// <summary>What was written.</summary>
/// <param name="Records">Records written: array elements or NDJSON lines, duplicates and invalid ones included.</param>
/// <param name="Bytes">Bytes written to the output.</param>
/// <param name="Duplicates">Records that re-use the id of an earlier valid record.</param>
/// <param name="Invalid">Records the pipeline must reject.</param>
internal sealed record GeneratedFile(long Records, long Bytes, long Duplicates, long Invalid);
