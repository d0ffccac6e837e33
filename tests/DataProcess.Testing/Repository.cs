namespace DataProcess.Testing;

/// <summary>The repository's files, found from the test's working directory.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    public static string File(string relative) => Path.Combine(Root, relative);

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(directory.FullName, "DataProcess.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("DataProcess.sln not found above " + AppContext.BaseDirectory);
    }
}
