using System.Buffers;
using System.Text.Json;

namespace DataProcess.Core.Staging;

/// <summary>
/// Reads only the index, id and reject reason of each staged line, for the first pass of a keyed load.
/// A staged line never holds a raw newline (JSON escapes it inside strings), so lines are found with a
/// vectorised search and the record after <c>"r":</c> is never parsed. The second pass reads every
/// line in full and stops on any broken one, so nothing malformed can load.
/// </summary>
internal sealed class StagingKeyReader : IAsyncDisposable
{
    private const int InitialBufferSize = 1024 * 1024;

    // A staged line holds one record (at most the reader's record limit) and a few bytes around it.
    private const int MaxLineBytes = Records.JsonRecordReader.DefaultMaxRecordBytes + (2 * 1024 * 1024);

    private readonly Stream _input;
    private readonly string _name;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
    private int _start;
    private int _end;
    private bool _endOfInput;

    public StagingKeyReader(Stream input, string name)
    {
        _input = input;
        _name = name;
    }

    public long Index { get; private set; }

    public string? Id { get; private set; }

    public string? Reject { get; private set; }

    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var newline = pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                _start += newline + 1;
                if (pending[..newline].IndexOfAnyExcept(" \t\r"u8) < 0)
                {
                    continue;
                }

                Parse(pending[..newline]);
                return true;
            }

            if (_endOfInput)
            {
                _start = _end;
                if (pending.IndexOfAnyExcept(" \t\r"u8) < 0)
                {
                    return false;
                }

                Parse(pending);
                return true;
            }

            await FillAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _input.DisposeAsync();
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        else if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineBytes)
            {
                throw new StagingException($"staging output {_name}: a line is longer than {MaxLineBytes / (1024 * 1024)} MiB");
            }

            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, MaxLineBytes));
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var read = await _input.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _endOfInput = read == 0;
        _end += read;
    }

    private void Parse(ReadOnlySpan<byte> line)
    {
        // The record or the enrichment fields after the head are the second pass's to read and check.
        var reader = new Utf8JsonReader(line);
        var wellFormed = StagedLine.TryReadHead(ref reader, out var index, out var id, out var reject, out _);
        Index = index;
        Id = id;
        Reject = reject;
        if (!wellFormed)
        {
            throw Broken();
        }
    }

    private StagingException Broken() => new($"staging output {_name}: the line after record {Index} is not a staged record");
}
