using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

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
    private const int InitialBufferBytes = 512 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Records go to jsonb, which stores text unescaped anyway; escaping every non-ASCII character only costs.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly ArrayBufferWriter<byte> _buffer = new(InitialBufferBytes);
    private readonly Utf8JsonWriter _writer;
    private int _lineStart;

    public StagingWriter()
    {
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

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
