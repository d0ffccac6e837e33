using System.CommandLine;
using DataProcess.Cli.Samples;

namespace DataProcess.Cli;

/// <summary><c>dataprocess generate</c>: a deterministic file of generated customers.</summary>
internal static class GenerateCommand
{
    public static Command Create(CliConsole console)
    {
        var output = new Option<FileInfo>("--out", "-o") { Description = "Where to write the file.", Required = true };
        var records = new Option<long?>("--records") { Description = "How many records." };
        var sizeMb = new Option<long?>("--size-mb") { Description = "Stop after this many megabytes (10^6 bytes)." };
        var seed = new Option<int>("--seed") { Description = "The random seed: the same seed gives the same bytes.", DefaultValueFactory = _ => 20261127 };
        var shape = new Option<OutputShape>("--shape") { Description = "WrappedArray ({\"result\":[...]}), TopLevelArray or Ndjson.", DefaultValueFactory = _ => OutputShape.WrappedArray };
        var command = new Command("generate", "Write a deterministic file of generated customers (samples, benchmarks).")
        {
            output, records, sizeMb, seed, shape,
        };

        command.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(records);
            var size = parse.GetValue(sizeMb);
            if (count is null == size is null)
            {
                throw new UsageException("give exactly one of --records and --size-mb");
            }

            if (count is < 1 || size is < 1)
            {
                throw new UsageException(count is not null ? $"--records must be at least 1, not {count}" : $"--size-mb must be at least 1, not {size}");
            }

            var file = parse.GetValue(output)!;
            file.Directory?.Create();
            var options = new GeneratorOptions { Seed = parse.GetValue(seed), Records = count, TargetBytes = size * 1_000_000, Shape = parse.GetValue(shape) };
            GeneratedFile generated;
            await using (var stream = new FileStream(file.FullName, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                generated = await CustomerGenerator.WriteAsync(stream, options, ct);
            }

            await console.Out.WriteLineAsync($"wrote {generated.Records} records, {generated.Bytes} bytes to {file.FullName}");
            return DataProcessCli.Success;
        });
        return command;
    }
}
