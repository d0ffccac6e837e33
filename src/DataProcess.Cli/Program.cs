namespace DataProcess.Cli;

internal static class Program
{
    public static int Main() => 2;
}
