using DataProcess.Core.Stages;
using DataProcess.Core.Staging;
using DataProcess.Differential.Tests.Generation;
using DataProcess.Differential.Tests.Reference;

namespace DataProcess.Differential.Tests;

/// <summary>
/// Each shortcut of the pipeline against the slow way it stands in for, on generated inputs: the keys-only scanner
/// against the full staging reader, and the parallel batches against one worker taking one record at a time.
/// </summary>
public sealed class TwinTests
{
    private static readonly StageParallelism[] Parallelisms =
    [
        new(Workers: 1, BatchBytes: 1, BatchRecords: 1),
        new(Workers: 4, BatchBytes: 1 << 22, BatchRecords: 100_000),
        new(Workers: 3, BatchBytes: 700, BatchRecords: 3),
    ];

    [Fact]
    public Task The_keys_only_scanner_reads_the_index_id_and_reject_the_full_staging_reader_reads() =>
        Harness.CheckAsync(Cases.Generator(maxRecords: 30, depth: Layout.MaxRecordDepth(Shape.ArrayAtPath)), Harness.Cases(10), async generated =>
        {
            await using var fast = new FastPath();
            foreach (var layout in new[] { Layout.Compact, Layout.PrettyCrlf, Layout.All.Single(l => l.Name == "escaped-everything") })
            {
                var staged = await fast.StageAsync(layout.Render(generated.Records, Shape.TopLevelArray), generated.Profile.ToJson("twins", Shape.TopLevelArray));
                foreach (var output in new[] { staged.Anonymization, staged.Enrichment })
                {
                    var keys = new List<(long, string?, string?)>();
                    await using (var scanner = new StagingKeyReader(new MemoryStream(output), "keys"))
                    {
                        while (await scanner.ReadAsync(CancellationToken.None))
                        {
                            keys.Add((scanner.Index, scanner.Id, scanner.Reject));
                        }
                    }

                    var full = new List<(long, string?, string?)>();
                    await using (var reader = new StagingReader(new MemoryStream(output), "full"))
                    {
                        while (await reader.ReadAsync(CancellationToken.None))
                        {
                            full.Add((reader.Index, reader.Id, reader.Reject));
                        }
                    }

                    keys.Should().Equal(full, $"{generated} / {layout}");
                    full.Should().Equal(StagedRun.Lines(output).Select(l => (l.Index, l.Id, l.Reject)), $"{generated} / {layout}");
                }
            }
        });

    [Fact]
    public Task One_worker_with_one_record_batches_stages_the_bytes_many_workers_with_large_batches_do() =>
        Harness.CheckAsync(Cases.Generator(maxRecords: 40, depth: Layout.MaxRecordDepth(Shape.ArrayAtPath)), Harness.Cases(6), async generated =>
        {
            await using var fast = new FastPath();
            var file = Layout.PrettyCrlf.Render(generated.Records, Shape.ArrayAtPath);
            var profile = generated.Profile.ToJson("twins", Shape.ArrayAtPath);
            var byDefault = await fast.StageAsync(file, profile);
            foreach (var parallelism in Parallelisms)
            {
                var staged = await fast.StageAsync(file, profile, parallelism);

                staged.Anonymization.Should().Equal(byDefault.Anonymization, $"{generated} with {parallelism}");
                staged.Enrichment.Should().Equal(byDefault.Enrichment, $"{generated} with {parallelism}");
            }
        });
}
