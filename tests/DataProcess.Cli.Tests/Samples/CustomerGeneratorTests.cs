using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DataProcess.Cli.Samples;

namespace DataProcess.Cli.Tests.Samples;

public sealed class CustomerGeneratorTests
{
    /// <summary>Shape names: <see cref="OutputShape"/> is internal, so theories take its name.</summary>
    public static TheoryData<string> Shapes => new(Enum.GetNames<OutputShape>());

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Same_seed_gives_identical_bytes(string shapeName)
    {
        var shape = Enum.Parse<OutputShape>(shapeName);
        var options = new GeneratorOptions { Seed = 42, Records = 2_000, Shape = shape };

        var (first, _) = await Generated.WriteAsync(options);
        var (second, _) = await Generated.WriteAsync(options);

        second.Should().Equal(first);
    }

    [Fact]
    public async Task A_different_seed_gives_different_records()
    {
        var (a, _) = await Generated.WriteAsync(new GeneratorOptions { Seed = 1, Records = 50, Shape = OutputShape.Ndjson });
        var (b, _) = await Generated.WriteAsync(new GeneratorOptions { Seed = 2, Records = 50, Shape = OutputShape.Ndjson });

        var linesA = Generated.Lines(a).Select(Encoding.UTF8.GetString).ToList();
        var linesB = Generated.Lines(b).Select(Encoding.UTF8.GetString).ToList();
        linesA.SkipLast(1).Should().NotIntersectWith(linesB.SkipLast(1), "no record of one seed should reappear in the other");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Output_is_valid_json_in_every_shape_and_the_reported_size_is_exact(string shapeName)
    {
        var shape = Enum.Parse<OutputShape>(shapeName);
        var (bytes, result) = await Generated.WriteAsync(new GeneratorOptions { Seed = 7, Records = 1_000, Shape = shape });

        var records = Generated.Records(bytes, shape);

        records.Should().HaveCount(1_000);
        result.Records.Should().Be(1_000);
        result.Bytes.Should().Be(bytes.Length);
        Encoding.UTF8.GetString(bytes).Should().EndWith("\n");
        if (shape == OutputShape.WrappedArray)
        {
            using var document = JsonDocument.Parse(bytes);
            document.RootElement.GetProperty("meta").GetProperty("seed").GetInt32().Should().Be(7);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Array_shapes_put_one_record_per_line(string shapeName)
    {
        var shape = Enum.Parse<OutputShape>(shapeName);
        var (bytes, _) = await Generated.WriteAsync(new GeneratorOptions { Seed = 7, Records = 100, Shape = shape });

        var lines = Generated.Lines(bytes);
        var recordLines = shape switch
        {
            OutputShape.Ndjson => lines.SkipLast(1).ToList(),
            _ => lines.Skip(1).SkipLast(2).ToList(),
        };

        recordLines.Should().HaveCount(100);
        foreach (var line in recordLines)
        {
            var text = line.AsSpan();
            if (shape != OutputShape.Ndjson && text.Length > 0 && text[^1] == (byte)',')
            {
                text = text[..^1];
            }

            var reader = new Utf8JsonReader(text);
            JsonDocument.ParseValue(ref reader).Dispose();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(137)]
    public async Task The_record_count_is_honoured(long count)
    {
        foreach (var shape in Enum.GetValues<OutputShape>())
        {
            var (bytes, result) = await Generated.WriteAsync(new GeneratorOptions { Seed = 3, Records = count, Shape = shape });

            Generated.Records(bytes, shape).Should().HaveCount((int)count, "shape {0}", shape);
            result.Records.Should().Be(count);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5_000)]
    [InlineData(250_000)]
    public async Task TargetBytes_stops_after_the_record_that_reaches_it(long target)
    {
        var (bytes, result) = await Generated.WriteAsync(new GeneratorOptions { Seed = 11, TargetBytes = target, Shape = OutputShape.Ndjson });

        var lines = Generated.Lines(bytes);
        var lastRecordLength = lines[^2].Length + 1;
        bytes.Length.Should().BeGreaterThanOrEqualTo((int)target);
        (bytes.Length - lastRecordLength).Should().BeLessThan((int)target, "the record before the last had not reached the target yet");
        result.Records.Should().Be(lines.Count - 1);
    }

    [Theory]
    [InlineData(nameof(OutputShape.WrappedArray))]
    [InlineData(nameof(OutputShape.TopLevelArray))]
    public async Task TargetBytes_in_an_array_stops_within_one_record(string shapeName)
    {
        var shape = Enum.Parse<OutputShape>(shapeName);
        const int Target = 300_000;

        var (bytes, _) = await Generated.WriteAsync(new GeneratorOptions { Seed = 11, TargetBytes = Target, Shape = shape });

        // Layout: header line, record lines ending in ',', the last record line, the closing line, "".
        var lines = Generated.Lines(bytes);
        var closing = lines[^2].Length + 1;
        var endOfLastRecord = bytes.Length - closing - 1;
        var startOfLastRecord = endOfLastRecord - lines[^3].Length;
        endOfLastRecord.Should().BeGreaterThanOrEqualTo(Target);
        (startOfLastRecord - 2).Should().BeLessThan(Target, "before the last record's ',\\n' the target was not reached");
    }

    [Fact]
    public async Task Whichever_of_records_and_target_bytes_comes_first_stops_the_file()
    {
        var (_, byCount) = await Generated.WriteAsync(new GeneratorOptions { Seed = 5, Records = 10, TargetBytes = 10_000_000 });
        var (_, bySize) = await Generated.WriteAsync(new GeneratorOptions { Seed = 5, Records = 10_000_000, TargetBytes = 10_000 });

        byCount.Records.Should().Be(10);
        bySize.Bytes.Should().BeLessThan(20_000);
    }

    [Fact]
    public async Task Default_duplicate_and_invalid_rates_are_roughly_honoured()
    {
        var (bytes, result) = await Generated.WriteAsync(new GeneratorOptions { Seed = 99, Records = 20_000, Shape = OutputShape.Ndjson });

        var (duplicates, invalid) = Count(Generated.Records(bytes, OutputShape.Ndjson));

        duplicates.Should().Be(result.Duplicates);
        invalid.Should().Be(result.Invalid);
        duplicates.Should().BeInRange(20, 60, "0.2% of 20,000 is 40");
        invalid.Should().BeInRange(10, 30, "0.1% of 20,000 is 20");
    }

    [Fact]
    public async Task High_duplicate_and_invalid_rates_are_honoured_closely()
    {
        var options = new GeneratorOptions { Seed = 99, Records = 20_000, DuplicateRate = 0.1, InvalidRate = 0.05, Shape = OutputShape.TopLevelArray };
        var (bytes, result) = await Generated.WriteAsync(options);

        var (duplicates, invalid) = Count(Generated.Records(bytes, OutputShape.TopLevelArray));

        duplicates.Should().Be(result.Duplicates).And.BeInRange(1_800, 2_200);
        invalid.Should().Be(result.Invalid).And.BeInRange(900, 1_100);
    }

    [Fact]
    public async Task Zero_rates_give_only_valid_unique_records()
    {
        var (bytes, result) = await Generated.WriteAsync(new GeneratorOptions { Seed = 4, Records = 5_000, DuplicateRate = 0, InvalidRate = 0 });

        var records = Generated.Records(bytes, OutputShape.WrappedArray);

        records.Should().OnlyContain(r => Generated.IsValid(r));
        records.Select(r => r.GetProperty("id").GetString()).Should().OnlyHaveUniqueItems();
        result.Duplicates.Should().Be(0);
        result.Invalid.Should().Be(0);
    }

    [Fact]
    public async Task Invalid_records_are_of_every_kind_the_pipeline_rejects()
    {
        var options = new GeneratorOptions { Seed = 8, Records = 3_000, InvalidRate = 0.1 };
        var (bytes, _) = await Generated.WriteAsync(options);

        var invalid = Generated.Records(bytes, OutputShape.WrappedArray).Where(r => !Generated.IsValid(r)).ToList();

        invalid.Should().Contain(r => r.ValueKind == JsonValueKind.Number);
        invalid.Should().Contain(r => r.ValueKind == JsonValueKind.Object && r.GetProperty("id").ValueKind == JsonValueKind.Null);
        invalid.Should().Contain(r => r.ValueKind == JsonValueKind.Object && r.GetProperty("id").ValueKind == JsonValueKind.String && !Has(r, "email"));
    }

    [Fact]
    public async Task A_duplicate_keeps_the_customer_and_changes_other_fields_so_last_wins_is_visible()
    {
        var options = new GeneratorOptions { Seed = 12, Records = 10_000, DuplicateRate = 0.05, InvalidRate = 0.02, Shape = OutputShape.Ndjson };
        var (bytes, _) = await Generated.WriteAsync(options);

        var firstById = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var idsWithoutEmail = new HashSet<string>(StringComparer.Ordinal);
        var checkedDuplicates = 0;
        foreach (var record in Generated.Records(bytes, OutputShape.Ndjson))
        {
            if (record.ValueKind != JsonValueKind.Object || record.GetProperty("id").GetString() is not { } id)
            {
                continue;
            }

            if (!record.TryGetProperty("email", out _))
            {
                idsWithoutEmail.Add(id).Should().BeTrue("a record without e-mail has an id of its own");
                continue;
            }

            idsWithoutEmail.Should().NotContain(id, "duplicates re-use the ids of valid records only");
            if (!firstById.TryGetValue(id, out var first))
            {
                firstById[id] = record;
                continue;
            }

            checkedDuplicates++;
            record.GetProperty("name").GetString().Should().Be(first.GetProperty("name").GetString());
            record.GetProperty("email").GetString().Should().Be(first.GetProperty("email").GetString());
            record.GetRawText().Should().NotBe(first.GetRawText());
            (record.GetProperty("score").GetRawText() != first.GetProperty("score").GetRawText()
                || record.GetProperty("createdAt").GetString() != first.GetProperty("createdAt").GetString())
                .Should().BeTrue("a duplicate is an update: {0}", id);
        }

        checkedDuplicates.Should().BeGreaterThan(300);
    }

    [Fact]
    public async Task Records_carry_every_format_the_pipeline_must_handle()
    {
        var (bytes, _) = await Generated.WriteAsync(new GeneratorOptions { Seed = 2024, Records = 5_000, InvalidRate = 0, DuplicateRate = 0 });
        var records = Generated.Records(bytes, OutputShape.WrappedArray);

        records.Select(r => r.GetProperty("id").GetString()).Should().OnlyContain(id => Regex.IsMatch(id!, "^cus_[0-9]{9}$"));
        records.Select(r => r.GetProperty("email").GetString()).Should().OnlyContain(e => Regex.IsMatch(e!, "^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+\\.[A-Za-z]+$"));
        records.Should().Contain(r => r.GetProperty("email").GetString()!.Any(char.IsUpper), "e-mail case is mixed sometimes");

        var phones = records.Select(r => r.GetProperty("phone")).ToList();
        phones.Where(p => p.ValueKind == JsonValueKind.String).Select(p => p.GetString())
            .Should().OnlyContain(p => Regex.IsMatch(p!, "^\\+[1-9][0-9]{7,14}$"), "string phones are E.164");
        phones.Should().Contain(p => p.ValueKind == JsonValueKind.Number);

        var birthDates = records.Select(r => r.GetProperty("birthDate").GetString()!).ToList();
        birthDates.Should().OnlyContain(d => IsBirthDate(d));
        birthDates.Should().Contain(d => d.Length == 10).And.Contain(d => d.EndsWith('Z')).And.Contain(d => d.EndsWith(" GMT", StringComparison.Ordinal));

        var ips = records.Select(r => IPAddress.Parse(r.GetProperty("ip").GetString()!)).ToList();
        ips.Should().Contain(ip => ip.AddressFamily == AddressFamily.InterNetwork).And.Contain(ip => ip.AddressFamily == AddressFamily.InterNetworkV6);

        var countries = records.Select(r => r.GetProperty("address").GetProperty("country").GetString()).ToHashSet();
        countries.Should().HaveCountGreaterThanOrEqualTo(30).And.OnlyContain(c => Regex.IsMatch(c!, "^[A-Z]{2}$"));
        records.Should().OnlyContain(r => r.GetProperty("address").GetProperty("postalCode").ValueKind == JsonValueKind.String);

        records.Select(r => r.GetProperty("tags").GetArrayLength()).Distinct().Should().BeEquivalentTo([0, 1, 2, 3, 4]);
        records.Select(r => r.GetProperty("friends").GetArrayLength()).Distinct().Should().BeEquivalentTo([0, 1, 2, 3]);
        records.SelectMany(r => r.GetProperty("friends").EnumerateArray()).Should().Contain(f => !Has(f, "phone"));

        records.Select(r => r.GetProperty("createdAt").GetString()).Should().OnlyContain(c => IsTimestampWithOffset(c!));
        records.Select(r => r.GetProperty("createdAt").GetString()![^6..]).Distinct().Should().HaveCountGreaterThan(5);
        records.Should().OnlyContain(r => r.GetProperty("score").ValueKind == JsonValueKind.Number);
        records.Select(r => r.GetProperty("active").GetBoolean()).Distinct().Should().HaveCount(2);

        var notes = records.Where(r => r.TryGetProperty("notes", out _)).Select(r => r.GetProperty("notes").GetString()!).ToList();
        notes.Should().HaveCountGreaterThan(100);
        var allNotes = string.Concat(notes.Distinct());
        allNotes.Should().Contain("é").And.Contain("漢字").And.Contain("🎉").And.Contain("👍").And.Contain("\"").And.Contain("\n");
        records.Select(r => r.GetProperty("name").GetString()).Should().Contain(n => n!.Any(c => c > 127));
    }

    [Fact]
    public async Task A_large_file_reaches_the_stream_in_chunks_no_bigger_than_the_buffer()
    {
        const long Target = 50L * 1024 * 1024;
        var stream = new CountingStream();

        var result = await CustomerGenerator.WriteAsync(stream, new GeneratorOptions { Seed = 1, TargetBytes = Target, Shape = OutputShape.Ndjson }, CancellationToken.None);

        stream.Bytes.Should().Be(result.Bytes).And.BeGreaterThanOrEqualTo(Target);
        stream.LargestWrite.Should().BeLessThanOrEqualTo(CustomerGenerator.BufferSize);
        stream.Writes.Should().BeGreaterThanOrEqualTo((int)(Target / CustomerGenerator.BufferSize));
    }

    [Fact]
    public async Task The_first_bytes_reach_the_stream_before_a_large_file_is_generated()
    {
        using var cancellation = new CancellationTokenSource();
        var stream = new CountingStream(_ => cancellation.Cancel());
        var options = new GeneratorOptions { Seed = 1, TargetBytes = 50L * 1024 * 1024, Shape = OutputShape.WrappedArray };

        var write = () => CustomerGenerator.WriteAsync(stream, options, cancellation.Token);

        // Cancelled from inside the first write: had the generator built the file first, 50 MB would arrive here.
        await write.Should().ThrowAsync<OperationCanceledException>();
        stream.Writes.Should().Be(1);
        stream.Bytes.Should().BeGreaterThan(0).And.BeLessThanOrEqualTo(CustomerGenerator.BufferSize);
    }

    [Fact]
    public async Task Options_without_a_size_or_with_impossible_rates_are_refused()
    {
        using var stream = new MemoryStream();

        var noSize = () => CustomerGenerator.WriteAsync(stream, new GeneratorOptions { Seed = 1 }, CancellationToken.None);
        var badRates = () => CustomerGenerator.WriteAsync(stream, new GeneratorOptions { Seed = 1, Records = 1, DuplicateRate = 0.7, InvalidRate = 0.4 }, CancellationToken.None);
        var negative = () => CustomerGenerator.WriteAsync(stream, new GeneratorOptions { Seed = 1, Records = -1 }, CancellationToken.None);

        await noSize.Should().ThrowAsync<ArgumentException>();
        await badRates.Should().ThrowAsync<ArgumentOutOfRangeException>();
        await negative.Should().ThrowAsync<ArgumentOutOfRangeException>();
        stream.Length.Should().Be(0);
    }

    private static readonly string[] BirthDateFormats = ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm:ss'Z'", "R"];

    private static bool Has(JsonElement element, string name) => element.TryGetProperty(name, out _);

    private static bool IsBirthDate(string text) =>
        DateTime.TryParseExact(text, BirthDateFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    private static bool IsTimestampWithOffset(string text) =>
        DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    private static (long Duplicates, long Invalid) Count(IEnumerable<JsonElement> records)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long duplicates = 0, invalid = 0;
        foreach (var record in records)
        {
            if (!Generated.IsValid(record))
            {
                invalid++;
            }
            else if (!seen.Add(record.GetProperty("id").GetString()!))
            {
                duplicates++;
            }
        }

        return (duplicates, invalid);
    }
}
