using System.Text.Json;
using DataProcess.Core.Profiles;
using DataProcess.Core.Records;

namespace DataProcess.Core.Staging;

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
