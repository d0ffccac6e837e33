using DataProcess.Core.Payloads;
using DataProcess.Core.Profiles;

namespace DataProcess.Cli;

/// <summary>One profile of a stack: <c>profiles/&lt;dataset&gt;.json</c>.</summary>
internal sealed record DatasetProfile(string Dataset, string Path);

/// <summary>
/// A stack's <c>profiles/</c> directory: every <c>*.json</c> file in it is one dataset's profile, named after the
/// dataset. The same check runs before <c>make plan</c> (Terraform uploads exactly these files) and when
/// <c>dataprocess stack</c> starts, so a bad profile is refused before anything is deployed or served.
/// </summary>
internal static class ProfileDirectory
{
    public static IReadOnlyList<DatasetProfile> Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new ProfileDirectoryException($"profiles directory {directory}: no such directory");
        }

        var files = Directory.EnumerateFiles(directory, "*.json", SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new ProfileDirectoryException($"profiles directory {directory}: no profiles (*.json files, one per dataset)");
        }

        var profiles = new List<DatasetProfile>();
        foreach (var file in files)
        {
            var name = System.IO.Path.GetFileNameWithoutExtension(file);
            var shown = System.IO.Path.Combine(directory, System.IO.Path.GetFileName(file));
            if (!KeyLayout.IsDatasetName(name))
            {
                throw new ProfileDirectoryException($"{shown}: the file name must be <dataset>.json, where the dataset is 1-63 of a-z, 0-9, '_' or '-' starting with a letter");
            }

            var profile = ProfileLoader.LoadFile(file);
            if (profile.Dataset != name)
            {
                throw new ProfileDirectoryException($"{shown}: dataset is '{profile.Dataset}' but the file is named {name}.json (a profile's file is named after its dataset)");
            }

            profiles.Add(new DatasetProfile(name, file));
        }

        return profiles;
    }
}

/// <summary>The profiles directory was refused; the message names the directory or the file.</summary>
internal sealed class ProfileDirectoryException(string message) : Exception(message);
