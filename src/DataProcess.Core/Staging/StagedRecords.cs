using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using DataProcess.Core.Profiles;
using DataProcess.Core.Records;

namespace DataProcess.Core.Staging;

/// <summary>
/// Writes a stage's output: NDJSON with one line per source record, in source order.
/// <code>
/// {"i":0,"id":"c1","r":{...}}        accepted (r: anonymized record, e: enrichment fields)
/// {"i":1,"id":null,"x":"reason"}      rejected
/// </code>
/// Both stages write a line for every record, so Consolidation can read them in step.
/// </summary>
internal sealed class StagingWriter : IAsyncDisposable
{
    private const int FlushThreshold = 256 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Records go to jsonb, which stores text unescaped anyway; escaping every non-ASCII character only costs.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly Stream _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private readonly Utf8JsonWriter _writer;
    private int _lineStart;

    public StagingWriter(Stream output)
    {
        _output = output;
        _writer = new Utf8JsonWriter(_buffer, WriterOptions);
    }

    /// <summary>Starts an accepted line and positions the writer at the value of <paramref name="property"/>.</summary>
    public Utf8JsonWriter BeginAccepted(long index, string id, ReadOnlySpan<byte> property)
    {
        _lineStart = _buffer.WrittenCount;
        _writer.WriteStartObject();
        _writer.WriteNumber(StagedLine.IndexProperty, index);
        _writer.WriteString(StagedLine.IdProperty, id);
        _writer.WritePropertyName(property);
        return _writer;
    }

    public void EndLine()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        _writer.Reset();

        // Consolidation finds lines by their newline (StagingKeyReader): a raw one inside would split the record.
        if (_buffer.WrittenSpan[_lineStart..].IndexOf((byte)'\n') >= 0)
        {
            throw new InvalidOperationException("a staged line holds a raw newline: a transform copied source whitespace into it");
        }

        _buffer.Write("\n"u8);
    }

    public void WriteRejected(long index, string? id, string reason)
    {
        _lineStart = _buffer.WrittenCount;
        _writer.WriteStartObject();
        _writer.WriteNumber(StagedLine.IndexProperty, index);
        if (id is null)
        {
            _writer.WriteNull(StagedLine.IdProperty);
        }
        else
        {
            _writer.WriteString(StagedLine.IdProperty, id);
        }

        _writer.WriteString(StagedLine.RejectProperty, reason);
        EndLine();
    }

    /// <summary>The lines written since the last flush or <see cref="Clear"/>.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    /// <summary>Forgets the lines written, keeping the buffer for the next ones.</summary>
    public void Clear() => _buffer.ResetWrittenCount();

    public ValueTask FlushIfFullAsync(CancellationToken cancellationToken) =>
        _buffer.WrittenCount >= FlushThreshold ? FlushAsync(cancellationToken) : ValueTask.CompletedTask;

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_buffer.WrittenCount > 0)
        {
            await _output.WriteAsync(_buffer.WrittenMemory, cancellationToken);
            _buffer.ResetWrittenCount();
        }
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}

/// <summary>Property names of a staged line.</summary>
internal static class StagedLine
{
    public static ReadOnlySpan<byte> IndexProperty => "i"u8;

    public static ReadOnlySpan<byte> IdProperty => "id"u8;

    public static ReadOnlySpan<byte> RecordProperty => "r"u8;

    public static ReadOnlySpan<byte> EnrichmentProperty => "e"u8;

    public static ReadOnlySpan<byte> RejectProperty => "x"u8;

    /// <summary>
    /// Reads the head of a staged line (<c>i</c>, <c>id</c>, <c>x</c>) and stops on the name of its payload
    /// (<c>r</c> or <c>e</c>), if any. False when the line is not a staged record.
    /// </summary>
    public static bool TryReadHead(ref Utf8JsonReader reader, out long index, out string? id, out string? reject, out bool hasPayload)
    {
        index = -1;
        id = null;
        reject = null;
        hasPayload = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(IndexProperty))
                {
                    reader.Read();
                    index = reader.GetInt64();
                }
                else if (reader.ValueTextEquals(IdProperty))
                {
                    reader.Read();
                    id = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
                }
                else if (reader.ValueTextEquals(RejectProperty))
                {
                    reader.Read();
                    reject = reader.GetString();
                }
                else
                {
                    hasPayload = true;
                    break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }

        return index >= 0 && (reject is not null || (id is not null && hasPayload));
    }
}

/// <summary>Reads a stage's output back, one line at a time.</summary>
internal sealed class StagingReader : IAsyncDisposable
{
    private readonly JsonRecordReader _lines;
    private readonly Stream _input;
    private readonly string _name;

    /// <summary>Reads <paramref name="input"/>, which it disposes.</summary>
    public StagingReader(Stream input, string name)
    {
        _input = input;
        _name = name;

        // Staged lines hold whole records plus a few bytes: allow a little more than the source limit.
        _lines = new JsonRecordReader(input, name, RecordsLocation.Detect, JsonRecordReader.DefaultMaxRecordBytes + (1024 * 1024));
    }

    public long Index { get; private set; }

    public string? Id { get; private set; }

    public string? Reject { get; private set; }

    /// <summary>The value of <c>r</c> or <c>e</c> of an accepted line, as raw JSON.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    public long BytesRead => _lines.BytesRead;

    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        bool more;
        try
        {
            more = await _lines.ReadAsync(cancellationToken);
        }
        catch (MalformedInputException) when (_lines.BytesRead == 0)
        {
            // A file of no records stages an empty output: no lines, not a malformed one.
            return false;
        }
        catch (MalformedInputException e)
        {
            throw new StagingException($"staging output {e.Message}");
        }

        if (!more)
        {
            return false;
        }

        Parse(_lines.Record);
        return true;
    }

    private void Parse(ReadOnlyMemory<byte> line)
    {
        var reader = new Utf8JsonReader(line.Span);
        var wellFormed = StagedLine.TryReadHead(ref reader, out var index, out var id, out var reject, out var hasPayload);
        Index = index;
        Id = id;
        Reject = reject;
        Payload = default;
        if (!wellFormed)
        {
            throw Broken();
        }

        if (hasPayload)
        {
            // The payload is the line's last property (StagingWriter writes it so), and the line reader
            // already checked the whole line: it runs to the byte before the line's closing brace, with no
            // second pass over the record's tokens.
            reader.Read();
            Payload = line[(int)reader.TokenStartIndex..^1];
        }
    }

    private StagingException Broken() => new($"staging output {_name}: line for record {Index} is not a staged record");

    public async ValueTask DisposeAsync()
    {
        await _lines.DisposeAsync();
        await _input.DisposeAsync();
    }
}

/// <summary>The stage outputs are missing, truncated or disagree: the run cannot be consolidated.</summary>
public sealed class StagingException(string message) : Exception(message);
