// `make microbench`: the hot paths of the stages and of consolidation, over the records of samples/customers.json
// (5,000 generated customers, 2.2 MB). Each benchmark processes the whole sample once per operation.
using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using DataProcess.Core.Ports;
using DataProcess.Core.Profiles;
using DataProcess.Core.Records;
using DataProcess.Core.Stages;
using DataProcess.Core.Staging;
using DataProcess.Core.Transforms;

BenchmarkSwitcher.FromAssembly(typeof(Sample).Assembly).Run(args);

internal static class Sample
{
    public static readonly byte[] Bytes = File.ReadAllBytes(Find("samples/customers.json"));

    public static readonly Profile Profile = ProfileLoader.LoadFile(Find("profiles/customers.json"));

    public static readonly HmacKey Key = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public static Profile Anonymizing(string path, string method) =>
        ProfileLoader.Parse(Encoding.UTF8.GetBytes($$"""{ "dataset": "bench", "records": "$.result", "id": "id", "anonymize": { "{{path}}": "{{method}}" } }"""), "bench.json");

    /// <summary>Every record of the sample, as the stages see them: raw bytes.</summary>
    public static List<byte[]> Records()
    {
        var records = new List<byte[]>();
        var reader = new JsonRecordReader(new MemoryStream(Bytes), "customers.json", Profile.Records);
        while (reader.ReadAsync().AsTask().GetAwaiter().GetResult())
        {
            records.Add(reader.Record.ToArray());
        }

        reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return records;
    }

    /// <summary>Checks and writes every record, as the anonymization stage does; returns how many were accepted.</summary>
    public static int Anonymize(List<JsonDocument> documents, RecordAnonymizer anonymizer, Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer)
    {
        var accepted = 0;
        foreach (var document in documents)
        {
            if (anonymizer.Check(document.RootElement) is null)
            {
                anonymizer.Write(document.RootElement, writer);
                writer.Flush();
                writer.Reset();
                accepted++;
            }

            buffer.ResetWrittenCount();
        }

        return accepted;
    }

    /// <summary>A record as most exporters write it: indented by two spaces, CRLF line ends.</summary>
    public static byte[] Pretty(byte[] record)
    {
        using var document = JsonDocument.Parse(record);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\r\n", Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.RootElement.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string Find(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(relative);
    }
}

/// <summary>The record reader against a bare Utf8JsonReader pass over the same bytes (the parse limit).</summary>
[MemoryDiagnoser]
public class ReaderBenchmarks
{
    private readonly byte[] _bytes = Sample.Bytes;

    [Benchmark(Baseline = true)]
    public long RawUtf8JsonReader()
    {
        var reader = new Utf8JsonReader(_bytes);
        long tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    [Benchmark]
    public async Task<long> JsonRecordReader()
    {
        await using var reader = new JsonRecordReader(new MemoryStream(_bytes), "customers.json", Sample.Profile.Records);
        long length = 0;
        while (await reader.ReadAsync())
        {
            length += reader.Record.Length;
        }

        return length;
    }

    [Benchmark]
    public async Task<long> ReadAndValidate()
    {
        long ids = 0;
        await using var reader = new JsonRecordReader(new MemoryStream(_bytes), "customers.json", Sample.Profile.Records);
        while (await reader.ReadAsync())
        {
            var validated = RecordValidator.ValidateDocument(reader.Record, Sample.Profile);
            validated.Document?.Dispose();
            ids += validated.Id?.Length ?? 0;
        }

        return ids;
    }
}

/// <summary>One anonymization rule (check, then the writing pass) over every record, parsed beforehand.</summary>
[MemoryDiagnoser]
public class AnonymizationBenchmarks : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private List<JsonDocument> _documents = [];
    private RecordAnonymizer? _anonymizer;
    private Utf8JsonWriter? _writer;

    [Params("email:hash", "phone:mask", "birthDate:year", "ip:ip-prefix", "friends[*].phone:redact", "profile")]
    public string Rule { get; set; } = "profile";

    [GlobalSetup]
    public void Setup()
    {
        _documents = Sample.Records().Select(r => JsonDocument.Parse(r)).ToList();
        var profile = Rule == "profile" ? Sample.Profile : Sample.Anonymizing(Rule[..Rule.LastIndexOf(':')], Rule[(Rule.LastIndexOf(':') + 1)..]);
        _anonymizer = new RecordAnonymizer(profile, Sample.Key);
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    [Benchmark]
    public int Anonymize() => Sample.Anonymize(_documents, _anonymizer!, _writer!, _buffer);

    [GlobalCleanup]
    public void Dispose()
    {
        _anonymizer?.Dispose();
        _writer?.Dispose();
        _documents.ForEach(d => d.Dispose());
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// How a value no rule touches is written, over every record of the sample as one untouched value: compact records
/// as raw bytes (before and after the whitespace check), pretty-printed ones (indent 2, CRLF) compacted by the
/// string-aware copy or re-written token by token (<see cref="JsonElement.WriteTo"/>).
/// </summary>
[MemoryDiagnoser]
public class UntouchedCopyBenchmarks : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private List<JsonDocument> _compact = [];
    private List<JsonDocument> _pretty = [];
    private byte[] _scratch = new byte[1 << 16];
    private Utf8JsonWriter? _writer;

    [GlobalSetup]
    public void Setup()
    {
        var records = Sample.Records();
        _compact = records.Select(r => JsonDocument.Parse(r)).ToList();
        _pretty = records.Select(r => JsonDocument.Parse(Sample.Pretty(r))).ToList();
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    [Benchmark(Baseline = true)]
    public long CompactRawCopy() => Each(_compact, e => _writer!.WriteRawValue(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(e), skipInputValidation: true));

    [Benchmark]
    public long CompactCheckedRawCopy() => Each(_compact, CompactingCopy);

    [Benchmark]
    public long PrettyCompactingCopy() => Each(_pretty, CompactingCopy);

    [Benchmark]
    public long PrettyWriteTo() => Each(_pretty, e => e.WriteTo(_writer!));

    [GlobalCleanup]
    public void Dispose()
    {
        _writer?.Dispose();
        _compact.ForEach(d => d.Dispose());
        _pretty.ForEach(d => d.Dispose());
        GC.SuppressFinalize(this);
    }

    /// <summary>What <c>RecordAnonymizer.WriteUntouched</c> does with an object or array.</summary>
    private void CompactingCopy(JsonElement element)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
        if (CompactJson.IndexOfWhitespace(raw) >= 0)
        {
            if (_scratch.Length < raw.Length)
            {
                _scratch = new byte[raw.Length * 2];
            }

            raw = _scratch.AsSpan(0, CompactJson.Copy(raw, _scratch));
        }

        _writer!.WriteRawValue(raw, skipInputValidation: true);
    }

    private long Each(List<JsonDocument> documents, Action<JsonElement> write)
    {
        long written = 0;
        foreach (var document in documents)
        {
            write(document.RootElement);
            _writer!.Flush();
            _writer.Reset();
            written += _buffer.WrittenCount;
            _buffer.ResetWrittenCount();
        }

        return written;
    }
}

/// <summary>The whole sample profile's anonymization over the records compact and pretty-printed (indent 2, CRLF).</summary>
[MemoryDiagnoser]
public class LayoutBenchmarks : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private List<JsonDocument> _documents = [];
    private RecordAnonymizer? _anonymizer;
    private Utf8JsonWriter? _writer;

    [Params("compact", "pretty")]
    public string Layout { get; set; } = "compact";

    [GlobalSetup]
    public void Setup()
    {
        _documents = Sample.Records().Select(r => JsonDocument.Parse(Layout == "pretty" ? Sample.Pretty(r) : r)).ToList();
        _anonymizer = new RecordAnonymizer(Sample.Profile, Sample.Key);
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    [Benchmark]
    public int AnonymizeProfile() => Sample.Anonymize(_documents, _anonymizer!, _writer!, _buffer);

    [GlobalCleanup]
    public void Dispose()
    {
        _anonymizer?.Dispose();
        _writer?.Dispose();
        _documents.ForEach(d => d.Dispose());
        GC.SuppressFinalize(this);
    }
}

/// <summary>The sample profile's five enrichment functions over every record, parsed beforehand.</summary>
[MemoryDiagnoser]
public class EnrichmentBenchmarks : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private List<JsonDocument> _documents = [];
    private RecordEnricher? _enricher;
    private Utf8JsonWriter? _writer;

    [GlobalSetup]
    public void Setup()
    {
        _documents = Sample.Records().Select(r => JsonDocument.Parse(r)).ToList();
        _enricher = new RecordEnricher(Sample.Profile, new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    [Benchmark]
    public int Enrich()
    {
        foreach (var document in _documents)
        {
            _enricher!.WriteFields(document.RootElement, _writer!);
            _writer!.Flush();
            _writer.Reset();
            _buffer.ResetWrittenCount();
        }

        return _documents.Count;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _writer?.Dispose();
        _documents.ForEach(d => d.Dispose());
        GC.SuppressFinalize(this);
    }
}

/// <summary>The NDJSON staging writer (a line per record) and reader, and the consolidation merge.</summary>
[MemoryDiagnoser]
public class StagingBenchmarks : IDisposable
{
    private List<JsonDocument> _documents = [];
    private List<(byte[] Record, byte[] Enrichment)> _pairs = [];
    private byte[] _staged = [];
    private byte[] _merged = new byte[64 * 1024];
    private readonly CountingStream _sink = new();
    private StagingWriter? _writer;

    [GlobalSetup]
    public void Setup()
    {
        _documents = Sample.Records().Select(r => JsonDocument.Parse(r)).Where(d => d.RootElement.ValueKind == JsonValueKind.Object).ToList();
        _writer = new StagingWriter();
        var output = new MemoryStream();
        WriteLines(output);
        _staged = output.ToArray();
        _pairs = _documents.Select(d => (Encoding.UTF8.GetBytes(d.RootElement.GetRawText()), """{"email_domain":"contoso.example","age":41,"country":"China","created_utc":"2018-08-18T23:49:00Z","signup_year":2018}"""u8.ToArray())).ToList();
    }

    [Benchmark]
    public long NdjsonWriter()
    {
        WriteLines(_sink);
        return _sink.Length;
    }

    [Benchmark]
    public async Task<long> NdjsonReader()
    {
        await using var reader = new StagingReader(new MemoryStream(_staged), "anonymization.ndjson");
        long total = 0;
        while (await reader.ReadAsync(CancellationToken.None))
        {
            total += reader.Payload.Length;
        }

        return total;
    }

    [Benchmark]
    public long Merge()
    {
        long total = 0;
        foreach (var (record, enrichment) in _pairs)
        {
            total += ConsolidationStage.Merge(record, enrichment, ref _merged);
        }

        return total;
    }

    /// <summary>A line per record through one long-lived writer, handed on in 256 KiB batches as a stage does.</summary>
    private void WriteLines(Stream output)
    {
        var writer = _writer!;
        long index = 0;
        foreach (var document in _documents)
        {
            document.RootElement.WriteTo(writer.BeginAccepted(index, "cus_000000001", "r"u8));
            writer.EndLine();
            if (writer.Written.Length >= 256 * 1024)
            {
                output.Write(writer.Written.Span);
                writer.Clear();
            }

            index++;
        }

        output.Write(writer.Written.Span);
        writer.Clear();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _documents.ForEach(d => d.Dispose());
        _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _sink.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class CountingStream : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _length += count;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
