using DataProcess.Differential.Tests.Generation;
using DataProcess.Differential.Tests.Reference;
using DataProcess.Testing;

namespace DataProcess.Differential.Tests;

/// <summary>
/// The whole run against the reference, through the production flow: both stages, then Consolidation into the real
/// PostgreSQL sink (whatever load protocol it uses). The loaded rows must be jsonb-equal to the reference's
/// "last duplicate wins" rows, the rejects and the run's counts the reference's.
/// </summary>
public sealed class LoadedRowsDifferentialTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly (Shape Shape, string Layout)[] Renderings =
    [
        (Shape.TopLevelArray, "compact"), (Shape.TopLevelArray, "indent2-crlf"), (Shape.ArrayAtPath, "escaped-everything"),
        (Shape.ArrayAtPath, "spaces-around-every-token"), (Shape.Ndjson, "indent4-crlf"), (Shape.Ndjson, "numbers-exponent"),
        (Shape.DetectedArray, "bom-indent2-crlf"), (Shape.Ndjson, "numbers-trailing-zeros"),
    ];

    [Fact]
    public async Task Generated_records_in_several_layouts_load_the_references_rows_rejects_and_counts()
    {
        var database = await postgres.CreateDatabaseAsync();
        await Postgres.SchemaMigrator.MigrateAsync(database);
        var run = 0;
        await Harness.CheckAsync(Cases.Generator(maxRecords: 30, depth: Layout.MaxRecordDepth(Shape.ArrayAtPath)), Harness.Cases(3), async generated =>
        {
            await using var fast = new FastPath();
            foreach (var (shape, name) in Renderings)
            {
                var layout = Layout.All.Single(l => l.Name == name);
                var dataset = $"run{run++}";
                var context = $"{generated} / {shape} / {layout}";
                var file = layout.Render(generated.Records, shape);
                var expected = ReferencePipeline.Run(file, generated.Profile, shape, FastPath.Key, FastPath.StartedAt);

                var staged = await fast.StageAsync(file, generated.Profile.ToJson(dataset, shape));
                var summary = await fast.ConsolidateAsync(staged, database);

                summary.Status.Should().Be("succeeded", context);
                await Differential.AssertLoadedAsync(database, dataset, Differential.Json(expected.Rows()), context);
                (await Differential.RejectsAsync(database, staged.Request.RunId)).Should().Equal(expected.Rejects.Select(r => (r.Index, r.Id, r.Reason)), context);
                (summary.Records, summary.Rejected, summary.Duplicates).Should().Be(((long)expected.Rows().Count, (long)expected.Rejects.Count, expected.Duplicates), context);
            }
        });
    }
}
