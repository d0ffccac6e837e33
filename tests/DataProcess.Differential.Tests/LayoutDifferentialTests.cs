using DataProcess.Core.Stages;
using DataProcess.Core.Staging;
using DataProcess.Differential.Tests.Generation;
using DataProcess.Differential.Tests.Reference;

namespace DataProcess.Differential.Tests;

/// <summary>
/// The stages against the reference, with no database: generated records and profiles, rendered in every layout of
/// <see cref="Layout.All"/> and every shape, must stage exactly the reference's records, rejects and reasons; and a
/// layout that differs only in whitespace must stage the compact layout's bytes.
/// </summary>
public sealed class LayoutDifferentialTests
{
    private static readonly Shape[] EveryLayoutShapes = [Shape.TopLevelArray, Shape.ArrayAtPath, Shape.Ndjson];

    [Fact]
    public Task Generated_records_in_every_layout_and_shape_stage_the_references_records_rejects_and_reasons() =>
        Harness.CheckAsync(Cases.Generator(maxRecords: 24, depth: Layout.MaxRecordDepth(Shape.ArrayAtPath)), Harness.Cases(20), async generated =>
        {
            await using var fast = new FastPath();
            foreach (var shape in EveryLayoutShapes)
            {
                await AssertEveryLayoutAsync(fast, generated, shape, Layout.All);
            }

            // A detected top-level array: the same records, no "records" in the profile.
            await AssertEveryLayoutAsync(fast, generated, Shape.DetectedArray, [Layout.Compact, Layout.All.Single(l => l.Name == "bom-indent2-crlf")]);
        });

    [Theory]
    [InlineData(Shape.TopLevelArray)]
    [InlineData(Shape.ArrayAtPath)]
    [InlineData(Shape.Ndjson)]
    public Task Records_nested_to_the_readers_depth_limit_of_each_shape_stage_the_references_records(Shape shape) =>
        Harness.CheckAsync(CsCheck.Gen.Select(Cases.Generator(maxRecords: 6, depth: Layout.MaxRecordDepth(shape)), c => c with { Records = c.Records.Select((r, i) => Deepest(r, i, Layout.MaxRecordDepth(shape))).ToList() }), 2, async (Case generated) =>
        {
            await using var fast = new FastPath();
            await AssertEveryLayoutAsync(fast, generated, shape, [Layout.Compact, Layout.PrettyCrlf]);
        });

    private static async Task AssertEveryLayoutAsync(FastPath fast, Case generated, Shape shape, IReadOnlyList<Layout> layouts)
    {
        StagedRun? compact = null;
        foreach (var layout in layouts)
        {
            var file = layout.Render(generated.Records, shape);
            var context = $"{generated} / {shape} / {layout}";
            var expected = ReferencePipeline.Run(file, generated.Profile, shape, FastPath.Key, FastPath.StartedAt);
            var staged = await fast.StageAsync(file, generated.Profile.ToJson("generated", shape));

            Differential.AssertStaged(expected, staged, context);
            if (layout == Layout.Compact)
            {
                compact = staged;
            }
            else if (compact is not null && layout.OnlyWhitespace)
            {
                staged.Anonymization.Should().Equal(compact.Anonymization, $"{context}: only whitespace differs from the compact layout, so must the anonymization output not");
                staged.Enrichment.Should().Equal(compact.Enrichment, $"{context}: only whitespace differs from the compact layout, so must the enrichment output not");
            }
        }
    }

    /// <summary>The first record of the case, nested exactly to <paramref name="depth"/>.</summary>
    private static Value Deepest(Value record, int index, int depth)
    {
        if (index != 0 || record is not Obj obj)
        {
            return record;
        }

        Value deep = new Str("bottom");
        for (var level = 1; level < depth; level++)
        {
            deep = level % 2 == 0 ? new Arr([deep]) : new Obj([("d", deep)]);
        }

        var copy = new Obj([.. obj.Properties.Where(p => p.Name != "deep")]);
        copy.Set("deep", deep);
        return copy;
    }
}
