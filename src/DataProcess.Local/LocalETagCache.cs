using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DataProcess.Local;

/// <summary>
/// The etags <see cref="DirectoryObjectStore"/> computed, by file path, each with the size and modification time the
/// file had: one small file per path under the store's <c>.etags/</c> directory (a name no S3 bucket can have), so a
/// later process finds them too. An entry serves only a file of exactly that size and modification time; an unreadable
/// or stale entry is ignored (the etag is computed again), never trusted.
/// </summary>
internal sealed class LocalETagCache(string directory)
{
    public const string DirectoryName = ".etags";

    /// <summary>
    /// How long after a file's modification time its etag becomes worth remembering. A write that lands in the same
    /// tick of the file system's clock as the one hashed would keep size and time: an etag computed this soon after the
    /// modification is used once and not remembered (git's "racy" index entries).
    /// </summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    /// <summary>What identifies one content of a file without reading it.</summary>
    internal readonly record struct Stamp(long Size, long ModifiedTicks)
    {
        public static Stamp Of(string path, long size) => new(size, File.GetLastWriteTimeUtc(path).Ticks);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Size} {ModifiedTicks}");
    }

    /// <summary>For tests: when "now" is, to decide whether an etag is too fresh to remember.</summary>
    internal Func<DateTime> UtcNow { get; init; } = () => DateTime.UtcNow;

    public string? TryGet(string path, Stamp stamp)
    {
        try
        {
            var lines = File.ReadAllText(EntryPath(path)).Split('\n');
            return lines.Length == 3 && lines[0] == path && lines[1] == stamp.ToString() && lines[2].Length == 32 ? lines[2] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Remember(string path, Stamp stamp, string etag)
    {
        if (UtcNow() - new DateTime(stamp.ModifiedTicks, DateTimeKind.Utc) < RacyWindow)
        {
            return;
        }

        var entry = EntryPath(path);
        var temporary = $"{entry}.{Guid.NewGuid():N}.partial";
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(temporary, $"{path}\n{stamp}\n{etag}");
            File.Move(temporary, entry, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a cache: the next head computes the etag again.
            File.Delete(temporary);
        }
    }

    private string EntryPath(string path) =>
        Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path))));
}
