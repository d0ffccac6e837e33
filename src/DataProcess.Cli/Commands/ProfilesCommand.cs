using System.CommandLine;

namespace DataProcess.Cli;

/// <summary><c>dataprocess profiles check DIR</c>: the check <c>make plan</c> runs before Terraform.</summary>
internal static class ProfilesCommand
{
    public static Command Create(CliConsole console)
    {
        var directory = new Argument<string>("DIR") { Description = "The profiles directory: one <dataset>.json per dataset.", DefaultValueFactory = _ => "profiles" };
        var check = new Command("check", "Validate every profile of a profiles directory with the pipeline's own loader; print the datasets.") { directory };
        check.SetAction(async (parse, ct) =>
        {
            var profiles = ProfileDirectory.Load(parse.GetValue(directory)!);
            foreach (var profile in profiles)
            {
                await console.Out.WriteLineAsync($"{profile.Dataset}\t{profile.Path}");
            }

            return DataProcessCli.Success;
        });
        return new Command("profiles", "A stack's profiles directory.") { check };
    }
}
