using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Records;

/// <summary>
/// Streams the records of a JSON input one at a time, whatever its size: a top-level array, an array
/// at a property path (<c>$.result</c>), or NDJSON. Only the current record is held in memory. The
/// whole document is checked: malformed JSON anywhere, even after the last record, is an error.
/// </summary>
/// <remarks>
/// The reader keeps a <see cref="JsonReaderState"/> across buffer refills. A record is returned only
/// once all its bytes are buffered; when a refill is needed in the middle of one, the reader rewinds
/// to the record's first byte, so a record never straddles two buffers.
/// </remarks>
internal sealed class JsonRecordReader : IAsyncDisposable
{
    /// <summary>Largest record accepted by default. A bigger one is almost always a broken export.</summary>
    public const int DefaultMaxRecordBytes = 16 * 1024 * 1024;

    private const int DefaultBufferSize = 1024 * 1024;

    private static readonly JsonReaderOptions DocumentOptions = new() { MaxDepth = 64 };
    private static readonly JsonReaderOptions SequenceOptions = new() { MaxDepth = 64, AllowMultipleValues = true };

    private readonly Stream _source;
    private readonly string _sourceName;
    private readonly RecordsLocation _location;
    private readonly int _maxRecordBytes;
    private readonly byte[][] _segments;

    private byte[] _buffer;
    private int _start;
    private int _end;
    private long _bufferOffset;
    private bool _final;
    private JsonReaderState _state;
    private Phase _phase = Phase.Start;
    private int _matched;
    private int _recordDepth;
    private int _recordStart;
    private int _recordLength;

    public JsonRecordReader(Stream source, string sourceName, RecordsLocation location, int maxRecordBytes = DefaultMaxRecordBytes, int bufferSize = DefaultBufferSize)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(location);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 16);
        _source = source;
        _sourceName = sourceName;
        _location = location;
        _maxRecordBytes = maxRecordBytes;
        _segments = location.Segments?.Select(s => Encoding.UTF8.GetBytes(s)).ToArray() ?? [];
        _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        RecordIndex = -1;
    }

    private enum Phase
    {
        Start,
        Navigating,
        InRecords,
        AfterRecords,
        Done,
    }

    public InputShape Shape { get; private set; }

    /// <summary>Zero-based position of the current record in the input.</summary>
    public long RecordIndex { get; private set; }

    /// <summary>The current record's UTF-8 JSON. Valid until the next <see cref="ReadAsync"/>.</summary>
    public ReadOnlyMemory<byte> Record => _buffer.AsMemory(_recordStart, _recordLength);

    /// <summary>Bytes read from the source so far.</summary>
    public long BytesRead => _bufferOffset + _end;

    /// <summary>Advances to the next record. Returns false at the end of a well-formed input.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            bool produced;
            bool needMore;
            try
            {
                produced = Step(out needMore);
            }
            catch (JsonException e)
            {
                throw _final && IsTruncated() ? Truncated(e) : Malformed(e);
            }

            if (produced)
            {
                RecordIndex++;
                return true;
            }

            if (_phase == Phase.Done)
            {
                return false;
            }

            if (needMore)
            {
                await FillAsync(cancellationToken);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Runs the reader over what is buffered. True when a record was produced.</summary>
    private bool Step(out bool needMore)
    {
        needMore = false;
        if (_phase == Phase.Start)
        {
            if (!DetectShape())
            {
                needMore = true;
                return false;
            }
        }

        var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
        var result = _phase switch
        {
            Phase.Navigating => Navigate(ref reader),
            Phase.InRecords => NextRecord(ref reader),
            Phase.AfterRecords => DrainRest(ref reader),
            _ => StepResult.NoRecord,
        };

        needMore = result == StepResult.NeedMore;
        return result == StepResult.Record;
    }

    private enum StepResult
    {
        NoRecord,
        Record,
        NeedMore,
    }

    private bool DetectShape()
    {
        var span = _buffer.AsSpan(_start, _end - _start);
        if (_bufferOffset + _start == 0)
        {
            // A UTF-8 byte order mark is accepted and skipped: several Windows exporters write one.
            if (span.Length < 3 && !_final && Encoding.UTF8.Preamble.StartsWith(span))
            {
                return false;
            }

            if (span.StartsWith(Encoding.UTF8.Preamble))
            {
                _start += 3;
                span = span[3..];
            }
        }

        var first = span.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0)
        {
            if (!_final)
            {
                _start += span.Length;
                return false;
            }

            throw new MalformedInputException(BytesRead == 0
                ? $"{_sourceName}: the file is empty: no JSON value at byte offset 0"
                : $"{_sourceName}: the file contains only whitespace: no JSON value before its end at byte offset {BytesRead}");
        }

        var c = span[first];
        var at = $"at byte offset {Offset(first)}";
        var segments = _location.Segments;
        if (segments is null)
        {
            Shape = c switch
            {
                (byte)'[' => InputShape.TopLevelArray,
                (byte)'{' => InputShape.Ndjson,
                _ => throw new MalformedInputException($"{_sourceName}: the top-level value is {DescribeStart(c)} {at}; expected an array of records or NDJSON objects"),
            };
        }
        else if (segments.Count == 0)
        {
            Shape = c == (byte)'['
                ? InputShape.TopLevelArray
                : throw new MalformedInputException($"{_sourceName}: the profile's records is \"$\" but the top-level value is {DescribeStart(c)}, not an array ({at})");
        }
        else
        {
            Shape = c == (byte)'{'
                ? InputShape.ArrayAtPath
                : throw new MalformedInputException($"{_sourceName}: the profile's records is \"{_location.Text}\" but the top-level value is {DescribeStart(c)}, not an object ({at})");
        }

        switch (Shape)
        {
            case InputShape.TopLevelArray:
                _phase = Phase.InRecords;
                _recordDepth = 1;
                _state = new JsonReaderState(DocumentOptions);
                break;
            case InputShape.Ndjson:
                _phase = Phase.InRecords;
                _recordDepth = 0;
                _state = new JsonReaderState(SequenceOptions);
                break;
            default:
                _phase = Phase.Navigating;
                _state = new JsonReaderState(DocumentOptions);
                break;
        }

        return true;
    }

    /// <summary>Walks the top-level object down the records path to the start of the array.</summary>
    private StepResult Navigate(ref Utf8JsonReader reader)
    {
        while (true)
        {
            var checkpoint = reader.CurrentState;
            var consumed = reader.BytesConsumed;
            if (!reader.Read())
            {
                return Commit(ref reader, StepResult.NeedMore);
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject when reader.CurrentDepth == 0:
                    continue;
                case JsonTokenType.EndObject when reader.CurrentDepth == _matched:
                    throw new MalformedInputException($"{_sourceName}: the records path {_location.Text} was not found: no '{_location.Segments![_matched]}' in {(_matched == 0 ? "the top-level object" : "$." + string.Join('.', _location.Segments!.Take(_matched)))}, which ends at byte offset {Offset(reader.TokenStartIndex)}");
                case JsonTokenType.PropertyName when reader.CurrentDepth == _matched + 1:
                    var isWanted = reader.ValueTextEquals(_segments[_matched]);
                    if (!reader.Read())
                    {
                        return Rewind(checkpoint, consumed);
                    }

                    if (isWanted)
                    {
                        var last = _matched == _segments.Length - 1;
                        var expected = last ? JsonTokenType.StartArray : JsonTokenType.StartObject;
                        if (reader.TokenType != expected)
                        {
                            throw new MalformedInputException($"{_sourceName}: the records path {_location.Text}: '{_location.Segments![_matched]}' at byte offset {Offset(reader.TokenStartIndex)} is {DescribeToken(reader.TokenType)}, not {(last ? "an array" : "an object")}");
                        }

                        _matched++;
                        if (last)
                        {
                            _phase = Phase.InRecords;
                            _recordDepth = _matched + 1;
                            return Commit(ref reader, StepResult.NoRecord);
                        }

                        continue;
                    }

                    if (!reader.TrySkip())
                    {
                        return Rewind(checkpoint, consumed);
                    }

                    // Skipped siblings are done with: commit so a large one is never re-read.
                    Commit(ref reader, StepResult.NoRecord);
                    return StepResult.NoRecord;
                default:
                    continue;
            }
        }
    }

    private StepResult NextRecord(ref Utf8JsonReader reader)
    {
        var checkpoint = reader.CurrentState;
        var consumed = reader.BytesConsumed;
        if (!reader.Read())
        {
            if (_final && Shape == InputShape.Ndjson)
            {
                _phase = Phase.Done;
                return StepResult.NoRecord;
            }

            return Rewind(checkpoint, consumed);
        }

        if (reader.CurrentDepth < _recordDepth || (reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == _recordDepth - 1))
        {
            if (reader.TokenType == JsonTokenType.StartArray && Shape == InputShape.TopLevelArray && reader.CurrentDepth == 0)
            {
                // The opening bracket of the records array itself.
                return Commit(ref reader, StepResult.NoRecord);
            }

            // The records array closed: the rest of the document is only checked.
            _phase = Phase.AfterRecords;
            return Commit(ref reader, StepResult.NoRecord);
        }

        var tokenStart = (int)reader.TokenStartIndex;
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            if (!reader.TrySkip())
            {
                CheckRecordSize(_end - _start - tokenStart);
                return Rewind(checkpoint, consumed);
            }
        }

        var length = (int)reader.BytesConsumed - tokenStart;
        CheckRecordSize(length);
        var record = _buffer.AsSpan(_start + tokenStart, length);
        if (!Utf8.IsValid(record))
        {
            var at = Offset(tokenStart) + ValidPrefixLength(record);
            throw new MalformedInputException($"{_sourceName}: invalid UTF-8 in record {RecordIndex + 1} at byte offset {at}");
        }

        _recordStart = _start + tokenStart;
        _recordLength = length;
        return Commit(ref reader, StepResult.Record);
    }

    private StepResult DrainRest(ref Utf8JsonReader reader)
    {
        while (reader.Read())
        {
            // Only validation happens here; nothing after the records array is used.
        }

        if (_final)
        {
            _phase = Phase.Done;
            return Commit(ref reader, StepResult.NoRecord);
        }

        return Commit(ref reader, StepResult.NeedMore);
    }

    private StepResult Commit(ref Utf8JsonReader reader, StepResult result)
    {
        _start += (int)reader.BytesConsumed;
        _state = reader.CurrentState;
        return result;
    }

    private StepResult Rewind(JsonReaderState checkpoint, long consumed)
    {
        if (_final)
        {
            // Nothing more will come, so the value can never be completed.
            throw new MalformedInputException($"{_sourceName}: the input ends in the middle of a value at byte offset {BytesRead}; the file looks truncated");
        }

        _start += (int)consumed;
        _state = checkpoint;
        return StepResult.NeedMore;
    }

    private void CheckRecordSize(long length)
    {
        if (length > _maxRecordBytes)
        {
            throw new MalformedInputException($"{_sourceName}: record {RecordIndex + 1} starting at byte offset {Offset(0)} is larger than the {_maxRecordBytes / (1024 * 1024)} MiB record limit");
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Move the unread tail to the front; everything before _start is done with.
            var remaining = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, remaining);
            _bufferOffset += _start;
            _start = 0;
            _end = remaining;
        }

        if (_end == _buffer.Length)
        {
            // One value (a record, or a sibling of the records array) does not fit: grow up to the limit.
            if (_buffer.Length >= _maxRecordBytes + (1024 * 1024))
            {
                throw new MalformedInputException($"{_sourceName}: a value starting at byte offset {_bufferOffset} is larger than the {_maxRecordBytes / (1024 * 1024)} MiB record limit");
            }

            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, _maxRecordBytes + (1024 * 1024)));
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var read = await _source.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0)
        {
            _final = true;
        }

        _end += read;
    }

    private static int ValidPrefixLength(ReadOnlySpan<byte> utf8)
    {
        var valid = 0;
        while (valid < utf8.Length && Rune.DecodeFromUtf8(utf8[valid..], out _, out var consumed) == OperationStatus.Done)
        {
            valid += consumed;
        }

        return valid;
    }

    private long Offset(long indexInWindow) => _bufferOffset + _start + indexInWindow;

    private MalformedInputException Malformed(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut];
        }

        var where = e.LineNumber is { } line
            ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}"
            : $"byte offset {BytesRead}";
        return new MalformedInputException($"{_sourceName}: malformed JSON at {where}: {message.TrimEnd('.')}");
    }

    /// <summary>True when the unread bytes are a valid beginning that only lacks its end.</summary>
    private bool IsTruncated()
    {
        var probe = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), isFinalBlock: false, _state);
        try
        {
            while (probe.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private MalformedInputException Truncated(JsonException e) =>
        new($"{_sourceName}: the input ends in the middle of a value at line {(e.LineNumber ?? 0) + 1}, column {(e.BytePositionInLine ?? 0) + 1} (byte offset {BytesRead}); the file looks truncated");

    private static string DescribeStart(byte c) => c switch
    {
        (byte)'"' => "a string",
        (byte)'t' or (byte)'f' => "a boolean",
        (byte)'n' => "null",
        (byte)'-' or (>= (byte)'0' and <= (byte)'9') => "a number",
        (byte)'[' => "an array",
        (byte)'{' => "an object",
        _ => $"not JSON (it starts with byte 0x{c:X2})",
    };

    private static string DescribeToken(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        _ => token.ToString(),
    };
}
