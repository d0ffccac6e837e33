using System.CommandLine;
using System.Security.Cryptography;

namespace DataProcess.Cli;

/// <summary><c>dataprocess keygen</c>: a new HMAC key file.</summary>
internal static class KeygenCommand
{
    public static Command Create(CliConsole console)
    {
        var output = new Option<FileInfo>("--out", "-o") { Description = "Where to write the key.", Required = true };
        var command = new Command("keygen", "Create a random 32-byte HMAC key file (base64, mode 600); an existing file is kept.") { output };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(output)!;
            if (file.Exists)
            {
                await console.Out.WriteLineAsync($"{file.FullName} exists; kept");
                return DataProcessCli.Success;
            }

            file.Directory?.Create();
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                // Readable by its owner only, like an SSH key.
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var writer = new StreamWriter(file.FullName, options))
            {
                await writer.WriteLineAsync(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).AsMemory(), ct);
            }

            await console.Out.WriteLineAsync($"wrote a new key to {file.FullName}");
            return DataProcessCli.Success;
        });
        return command;
    }
}
