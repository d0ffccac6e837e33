using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace DataProcess.Cli.Samples;

/// <summary>
/// Writes customer JSON for the bundled sample and for benchmarks: deterministic for a seed and streaming
/// (memory stays at one 1 MiB buffer whatever the size of the file).
/// </summary>
/// <remarks>
/// <para>
/// Every choice is drawn, in a fixed order, from one <see cref="Random"/> seeded with
/// <see cref="GeneratorOptions.Seed"/> (its seeded algorithm is the same on every runtime and machine). A
/// customer's identity (name, e-mail, birth date) is a pure function of the seed and the customer number,
/// so a duplicate (a later record re-using an earlier id) keeps the identity and changes the rest: phone,
/// address, tags, friends, <c>createdAt</c>, <c>score</c>, <c>active</c>.
/// </para>
/// <para>
/// Layout: array shapes put one record per line (<c>[\n{...},\n{...}\n]</c>) so diffs of a sample stay
/// readable; NDJSON is one record per line. Non-ASCII text is written as raw UTF-8 (the relaxed encoder),
/// <c>notes</c> add escapes and 4-byte sequences on purpose.
/// </para>
/// </remarks>
internal sealed class CustomerGenerator
{
    /// <summary>Output buffer: written to the stream each time it is nearly full.</summary>
    internal const int BufferSize = 1 << 20;

    /// <summary>Room left for the next record before the buffer is written out; records are far smaller.</summary>
    private const int Headroom = 64 * 1024;

    private const string IdPrefix = "cus_";

    private static readonly DateTime BirthDateMin = new(1940, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly int BirthDateDays = (int)(new DateTime(2007, 12, 31, 0, 0, 0, DateTimeKind.Utc) - BirthDateMin).TotalDays;
    private static readonly DateTime CreatedAtMin = new(2018, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
    private static readonly int CreatedAtMinutes = (int)(new DateTime(2025, 10, 31, 0, 0, 0, DateTimeKind.Unspecified) - CreatedAtMin).TotalMinutes;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The file is data, never HTML: keep é, 漢字 and '+' as they are instead of \u escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private readonly GeneratorOptions _options;
    private readonly Random _random;
    private readonly ulong _identitySeed;

    /// <summary>Customer numbers of records written without an e-mail: duplicates never re-use them.</summary>
    private readonly HashSet<long> _idsWithoutEmail = [];

    private long _invalidRecords;

    /// <summary>The highest customer number issued so far (numbers start at 1).</summary>
    private long _lastCustomer;

    private CustomerGenerator(GeneratorOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
        _identitySeed = SplitMix((ulong)(uint)options.Seed);
    }

    private enum RecordKind
    {
        New,
        Duplicate,
        MissingEmail,
        NullId,
        NotAnObject,
    }

    /// <summary>
    /// Writes records to <paramref name="output"/> until <see cref="GeneratorOptions.Records"/> are written or the
    /// record that reaches <see cref="GeneratorOptions.TargetBytes"/> is, whichever comes first. The stream is
    /// flushed, not closed.
    /// </summary>
    public static Task<GeneratedFile> WriteAsync(Stream output, GeneratorOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        if (!output.CanWrite)
        {
            throw new ArgumentException("The output stream is not writable.", nameof(output));
        }

        return new CustomerGenerator(options).RunAsync(output, ct);
    }

    private static void Validate(GeneratorOptions options)
    {
        if (options.Records is null && options.TargetBytes is null)
        {
            throw new ArgumentException("Give a record count, a target size in bytes, or both.", nameof(options));
        }

        if (options.Records < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Records, "Records cannot be negative.");
        }

        if (options.TargetBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.TargetBytes, "TargetBytes must be positive.");
        }

        if (!Enum.IsDefined(options.Shape))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Shape, "Unknown output shape.");
        }

        if (!IsRate(options.DuplicateRate) || !IsRate(options.InvalidRate) || options.DuplicateRate + options.InvalidRate > 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                $"DuplicateRate ({options.DuplicateRate}) and InvalidRate ({options.InvalidRate}) must be between 0 and 1 and add up to at most 1.");
        }

        static bool IsRate(double rate) => rate is >= 0 and <= 1;
    }

    private async Task<GeneratedFile> RunAsync(Stream output, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(BufferSize);
        long flushed = 0;
        long records = 0, duplicates = 0, invalid = 0;
        var shape = _options.Shape;

        await using var writer = new Utf8JsonWriter(buffer, WriterOptions);

        if (shape == OutputShape.WrappedArray)
        {
            Raw(buffer, """{"meta":"""u8);
            WriteMeta(writer);
            writer.Flush();
            writer.Reset();
            Raw(buffer, ""","result":["""u8);
        }
        else if (shape == OutputShape.TopLevelArray)
        {
            Raw(buffer, "["u8);
        }

        while ((_options.Records is not { } max || records < max)
            && (_options.TargetBytes is not { } target || flushed + buffer.WrittenCount < target))
        {
            ct.ThrowIfCancellationRequested();
            if (shape != OutputShape.Ndjson)
            {
                Raw(buffer, records == 0 ? "\n"u8 : ",\n"u8);
            }

            var kind = WriteRecord(writer);
            writer.Flush();
            writer.Reset();
            if (shape == OutputShape.Ndjson)
            {
                Raw(buffer, "\n"u8);
            }

            records++;
            if (kind == RecordKind.Duplicate)
            {
                duplicates++;
            }
            else if (kind != RecordKind.New)
            {
                invalid++;
            }

            if (buffer.FreeCapacity < Headroom)
            {
                await output.WriteAsync(buffer.WrittenMemory, ct);
                flushed += buffer.WrittenCount;
                buffer.ResetWrittenCount();
            }
        }

        if (shape == OutputShape.WrappedArray)
        {
            Raw(buffer, "\n]}\n"u8);
        }
        else if (shape == OutputShape.TopLevelArray)
        {
            Raw(buffer, "\n]\n"u8);
        }

        await output.WriteAsync(buffer.WrittenMemory, ct);
        flushed += buffer.WrittenCount;
        await output.FlushAsync(ct);
        return new GeneratedFile(records, flushed, duplicates, invalid);
    }

    private void WriteMeta(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("generator", "dataprocess-customer-generator");
        writer.WriteNumber("version", 1);
        writer.WriteNumber("seed", _options.Seed);
        writer.WriteNumber("duplicateRate", _options.DuplicateRate);
        writer.WriteNumber("invalidRate", _options.InvalidRate);
        writer.WriteEndObject();
    }

    private RecordKind WriteRecord(Utf8JsonWriter writer)
    {
        var roll = _random.NextDouble();
        RecordKind kind;
        if (roll < _options.InvalidRate)
        {
            // The kinds take turns, so even a small sample has each of them.
            kind = (_invalidRecords++ % 3) switch
            {
                0 => RecordKind.MissingEmail,
                1 => RecordKind.NullId,
                _ => RecordKind.NotAnObject,
            };
        }
        else if (roll < _options.InvalidRate + _options.DuplicateRate && _lastCustomer > _idsWithoutEmail.Count)
        {
            kind = RecordKind.Duplicate;
        }
        else
        {
            kind = RecordKind.New;
        }

        switch (kind)
        {
            case RecordKind.NotAnObject:
                writer.WriteNumberValue(_random.Next(1, 100_000));
                return kind;
            case RecordKind.NullId:
                // No customer number is used up: duplicates only re-use ids that are in the file.
                WriteCustomer(writer, customer: null, identity: _random.NextInt64(), withEmail: true);
                return kind;
            case RecordKind.MissingEmail:
                _lastCustomer++;
                _idsWithoutEmail.Add(_lastCustomer);
                WriteCustomer(writer, _lastCustomer, _lastCustomer, withEmail: false);
                return kind;
            case RecordKind.Duplicate:
                long earlier;
                do
                {
                    earlier = _random.NextInt64(1, _lastCustomer + 1);
                }
                while (_idsWithoutEmail.Contains(earlier));

                WriteCustomer(writer, earlier, earlier, withEmail: true);
                return kind;
            default:
                _lastCustomer++;
                WriteCustomer(writer, _lastCustomer, _lastCustomer, withEmail: true);
                return kind;
        }
    }

    /// <param name="customer">The number in the id; null writes <c>"id": null</c>.</param>
    /// <param name="identity">The number the name, e-mail and birth date derive from.</param>
    private void WriteCustomer(Utf8JsonWriter writer, long? customer, long identity, bool withEmail)
    {
        var person = new Identity(_identitySeed, identity);
        var first = CustomerData.FirstNames[person.Next(CustomerData.FirstNames.Length)];
        var last = CustomerData.LastNames[person.Next(CustomerData.LastNames.Length)];
        var email = Email(ref person, first, last);
        var birthDate = BirthDateMin.AddDays(person.Next(BirthDateDays + 1));
        var country = CustomerData.Countries[_random.Next(CustomerData.Countries.Length)];

        writer.WriteStartObject();
        if (customer is { } number)
        {
            writer.WriteString("id", string.Create(CultureInfo.InvariantCulture, $"{IdPrefix}{number:D9}"));
        }
        else
        {
            writer.WriteNull("id");
        }

        writer.WriteString("name", first + " " + last);
        if (withEmail)
        {
            writer.WriteString("email", email);
        }

        if (_random.Next(100) < 5)
        {
            // Some exports lose the '+' and type the phone as a number.
            writer.WriteNumber("phone", long.Parse(Phone(country).AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteString("phone", Phone(country));
        }

        var format = _random.Next(100);
        writer.WriteString("birthDate", format switch
        {
            < 85 => birthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            < 95 => birthDate.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            _ => birthDate.ToString("R", CultureInfo.InvariantCulture),
        });
        writer.WriteString("ip", IpAddress());

        writer.WriteStartObject("address");
        writer.WriteString("street", string.Create(
            CultureInfo.InvariantCulture,
            $"{CustomerData.Streets[_random.Next(CustomerData.Streets.Length)]} {_random.Next(1, 250)}"));
        writer.WriteString("city", country.Cities[_random.Next(country.Cities.Length)]);
        writer.WriteString("postalCode", Digits(country.PostalDigits));
        writer.WriteString("country", country.Code);
        writer.WriteEndObject();

        writer.WriteStartArray("tags");
        WriteTags(writer);
        writer.WriteEndArray();

        writer.WriteStartArray("friends");
        var friends = _random.Next(4);
        for (var i = 0; i < friends; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("name", CustomerData.FirstNames[_random.Next(CustomerData.FirstNames.Length)] + " " + CustomerData.LastNames[_random.Next(CustomerData.LastNames.Length)]);
            if (_random.Next(10) != 0)
            {
                writer.WriteString("phone", Phone(CustomerData.Countries[_random.Next(CustomerData.Countries.Length)]));
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        var created = new DateTimeOffset(
            CreatedAtMin.AddMinutes(_random.Next(CreatedAtMinutes)),
            TimeSpan.FromMinutes(CustomerData.OffsetMinutes[_random.Next(CustomerData.OffsetMinutes.Length)]));
        writer.WriteString("createdAt", created.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
        writer.WriteNumber("score", new decimal(_random.Next(0, 100_000), 0, 0, false, 2));
        writer.WriteBoolean("active", _random.Next(100) < 80);
        if (_random.Next(100) < 5)
        {
            writer.WritePropertyName("notes");
            writer.WriteRawValue(CustomerData.NoteLiterals[_random.Next(CustomerData.NoteLiterals.Length)]);
        }

        writer.WriteEndObject();
    }

    private static string Email(ref Identity person, string first, string last)
    {
        var f = CustomerData.EmailPart(first);
        var l = CustomerData.EmailPart(last);
        var number = person.Next(1000);
        var local = person.Next(4) switch
        {
            0 => $"{f}.{l}",
            1 => string.Create(CultureInfo.InvariantCulture, $"{f}.{l}{number}"),
            2 => string.Create(CultureInfo.InvariantCulture, $"{f[0]}{l}{number}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{f}_{l}{number % 100}"),
        };
        var domain = CustomerData.EmailDomains[person.Next(CustomerData.EmailDomains.Length)];

        // Mixed case sometimes: the pipeline's e-mail handling must not care.
        return person.Next(100) switch
        {
            < 6 => Capitalised(local) + "@" + domain,
            < 9 => local + "@" + domain.ToUpperInvariant(),
            < 10 => local.ToUpperInvariant() + "@" + domain.ToUpperInvariant(),
            _ => local + "@" + domain,
        };

        static string Capitalised(string text) => string.Create(text.Length, text, static (span, source) =>
        {
            var upper = true;
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = upper && c is >= 'a' and <= 'z' ? (char)(c - ('a' - 'A')) : c;
                upper = c is '.' or '_';
            }
        });
    }

    private string Phone(Country country) =>
        "+" + country.DialCode + Digits(country.DialCode.Length == 1 ? 10 : 13 - country.DialCode.Length, firstNonZero: true);

    private string Digits(int count, bool firstNonZero = false)
    {
        Span<char> digits = stackalloc char[count];
        for (var i = 0; i < digits.Length; i++)
        {
            digits[i] = (char)('0' + (i == 0 && firstNonZero ? _random.Next(1, 10) : _random.Next(10)));
        }

        return new string(digits);
    }

    private string IpAddress()
    {
        if (_random.Next(10) != 0)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"{_random.Next(1, 224)}.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(1, 255)}");
        }

        // 2001:db8::/32 is the documentation prefix; the next 16 bits vary so /48 prefixes differ.
        Span<byte> bytes = stackalloc byte[16];
        bytes[0] = 0x20;
        bytes[1] = 0x01;
        bytes[2] = 0x0d;
        bytes[3] = 0xb8;
        _random.NextBytes(bytes[4..]);
        if (_random.Next(2) == 0)
        {
            // Zero runs so the text is compressed ("2001:db8:1234::abcd").
            bytes[8..14].Clear();
        }

        return new IPAddress(bytes).ToString();
    }

    private void WriteTags(Utf8JsonWriter writer)
    {
        var count = _random.Next(5);
        Span<int> picked = stackalloc int[CustomerData.Tags.Length];
        for (var i = 0; i < picked.Length; i++)
        {
            picked[i] = i;
        }

        for (var i = 0; i < count; i++)
        {
            var j = _random.Next(i, picked.Length);
            (picked[i], picked[j]) = (picked[j], picked[i]);
            writer.WriteStringValue(CustomerData.Tags[picked[i]]);
        }
    }

    private static void Raw(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> bytes) => buffer.Write(bytes);

    private static ulong SplitMix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Draws that depend only on the seed and a customer number (SplitMix64, fixed arithmetic): a customer's
    /// identity is the same wherever in the file the customer appears.
    /// </summary>
    private struct Identity(ulong seed, long customer)
    {
        private ulong _state = SplitMix(seed ^ (ulong)customer);

        public int Next(int exclusiveMax)
        {
            _state = SplitMix(_state);
            return (int)(_state % (ulong)exclusiveMax);
        }
    }
}
