using System.Text.Json;
using DataProcess.Cli.Samples;
using DataProcess.Core.Profiles;

namespace DataProcess.Cli.Tests.Samples;

/// <summary>
/// The committed sample is exactly what the generator makes with the documented seed, and the sample profile
/// reads fields the sample has. Set DATAPROCESS_REGENERATE_SAMPLES=1 to rewrite samples/customers.json after a
/// deliberate change to the generator (then review and commit the diff).
/// </summary>
public sealed class SampleFileTests
{
    /// <summary>What samples/README.md documents: <c>dataprocess generate --records 5000 --seed 20261127</c>.</summary>
    internal static readonly GeneratorOptions SampleOptions = new() { Seed = 20261127, Records = 5_000, Shape = OutputShape.WrappedArray };

    [Fact]
    public async Task Sample_file_is_what_the_generator_makes_with_the_committed_seed()
    {
        var path = Path.Combine(DataProcess.Testing.Repository.Root, "samples", "customers.json");
        var (expected, result) = await Generated.WriteAsync(SampleOptions);

        if (Environment.GetEnvironmentVariable("DATAPROCESS_REGENERATE_SAMPLES") == "1")
        {
            await File.WriteAllBytesAsync(path, expected);
        }

        File.Exists(path).Should().BeTrue("samples/customers.json is committed");
        var actual = await File.ReadAllBytesAsync(path);
        var firstDifference = FirstDifference(expected, actual);
        firstDifference.Should().Be(
            -1,
            "samples/customers.json must be the generator's output for seed {0} ({1} bytes, {2} records; the file has {3} bytes); "
            + "the value is the offset of the first differing byte; if the generator changed on purpose, rerun with DATAPROCESS_REGENERATE_SAMPLES=1 and commit the file",
            SampleOptions.Seed,
            result.Bytes,
            result.Records,
            actual.Length);
        actual.Length.Should().BeLessThan(5 * 1024 * 1024, "the sample stays small enough to commit");
    }

    [Fact]
    public void Sample_profile_is_accepted_and_reads_the_sample_as_wrapped_records()
    {
        var profile = ProfileLoader.LoadFile(Path.Combine(DataProcess.Testing.Repository.Root, "profiles", "customers.json"));

        profile.Dataset.Should().Be("customers");
        profile.Records.Segments.Should().Equal("result");
        profile.Id.Text.Should().Be("id");
        profile.Require.Select(p => p.Text).Should().Equal("email");
        profile.Anonymize.Should().HaveCount(8);
        profile.Enrich.Select(e => e.Name).Should().Equal("email_domain", "age", "country", "created_utc", "signup_year");
    }

    [Fact]
    public async Task Every_field_the_sample_profile_names_is_in_the_generated_records()
    {
        var profile = ProfileLoader.LoadFile(Path.Combine(DataProcess.Testing.Repository.Root, "profiles", "customers.json"));
        var (bytes, _) = await Generated.WriteAsync(SampleOptions);
        var valid = Generated.Records(bytes, OutputShape.WrappedArray).Where(Generated.IsValid).ToList();

        var paths = profile.Anonymize.Select(r => r.Path).Concat(profile.Enrich.Select(e => e.From)).Append(profile.Id).Concat(profile.Require);
        foreach (var path in paths)
        {
            var found = valid.Count(record => Resolve(record, path.Segments, 0).Any());
            if (path.HasWildcard)
            {
                found.Should().BeGreaterThan(valid.Count / 2, "most records have a value at {0}", path.Text);
            }
            else
            {
                found.Should().Be(valid.Count, "every valid record has {0}", path.Text);
            }
        }
    }

    private static IEnumerable<JsonElement> Resolve(JsonElement element, IReadOnlyList<PathSegment> segments, int index)
    {
        if (index == segments.Count)
        {
            return [element];
        }

        var segment = segments[index];
        if (segment.IsWildcard)
        {
            return element.ValueKind == JsonValueKind.Array
                ? element.EnumerateArray().SelectMany(e => Resolve(e, segments, index + 1)).ToList()
                : [];
        }

        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(segment.Name!, out var child)
            ? Resolve(child, segments, index + 1)
            : [];
    }

    private static long FirstDifference(byte[] expected, byte[] actual)
    {
        var common = expected.AsSpan().CommonPrefixLength(actual);
        return common == expected.Length && common == actual.Length ? -1 : common;
    }
}

