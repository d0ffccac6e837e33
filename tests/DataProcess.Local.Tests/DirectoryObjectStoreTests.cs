using System.Security.Cryptography;
using System.Text;
using DataProcess.Local;
using DataProcess.Core.Ports;

namespace DataProcess.Local.Tests;

public sealed class DirectoryObjectStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dp-store-").FullName;

    [Fact]
    public async Task Writes_and_reads_back_an_object_with_its_md5_as_etag()
    {
        var store = new DirectoryObjectStore(_root);
        var obj = new ObjectRef("staging", "runs/1/out.ndjson");
        var content = Encoding.UTF8.GetBytes("{\"a\":1}\n");

        var written = await store.WriteAsync(obj, (s, ct) => s.WriteAsync(content, ct).AsTask());
        var head = await store.HeadAsync(obj);

        written.ETag.Should().Be(Convert.ToHexStringLower(MD5.HashData(content)));
        head.Should().Be(written);
        head.Size.Should().Be(content.Length);
        await using var read = await store.OpenReadAsync(obj);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        copy.ToArray().Should().Equal(content);
    }

    [Fact]
    public async Task Leaves_nothing_behind_when_the_producer_fails()
    {
        var store = new DirectoryObjectStore(_root);
        var obj = new ObjectRef("staging", "out.ndjson");

        var act = () => store.WriteAsync(obj, async (s, ct) =>
        {
            await s.WriteAsync(new byte[1000], ct);
            throw new IOException("disk full");
        });

        await act.Should().ThrowAsync<IOException>();
        Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Should().BeEmpty();
        await FluentActions.Awaiting(() => store.OpenReadAsync(obj)).Should().ThrowAsync<ObjectNotFoundException>();
    }

    [Fact]
    public async Task Serves_a_mapped_bucket_from_its_own_directory()
    {
        var inputs = Directory.CreateDirectory(Path.Combine(_root, "elsewhere")).FullName;
        await File.WriteAllTextAsync(Path.Combine(inputs, "data.json"), "[]");
        var store = new DirectoryObjectStore(Path.Combine(_root, "store")).MapBucket("source", inputs);

        (await store.HeadAsync(new ObjectRef("source", "data.json"))).Size.Should().Be(2);
    }

    [Fact]
    public async Task Moves_an_object_to_another_key()
    {
        var store = new DirectoryObjectStore(_root);
        var from = new ObjectRef("input", "incoming/a.json");
        var to = new ObjectRef("input", "quarantine/a.json");
        await store.WriteAsync(from, (s, ct) => s.WriteAsync("[]"u8.ToArray(), ct).AsTask());

        await store.MoveAsync(from, to);

        File.Exists(Path.Combine(_root, "input", "quarantine", "a.json")).Should().BeTrue();
        await FluentActions.Awaiting(() => store.HeadAsync(from)).Should().ThrowAsync<ObjectNotFoundException>();
    }

    [Theory]
    [InlineData("b", "../outside.json")]
    [InlineData("b", "a/../../outside.json")]
    [InlineData("b", "/etc/passwd")]
    [InlineData("..", "x.json")]
    [InlineData("a/b", "x.json")]
    public async Task Refuses_keys_that_leave_the_bucket(string bucket, string key)
    {
        var store = new DirectoryObjectStore(Path.Combine(_root, "store"));

        await FluentActions.Awaiting(() => store.OpenReadAsync(new ObjectRef(bucket, key))).Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task Deleting_the_last_object_of_a_prefix_removes_its_directories_as_s3_has_no_empty_prefixes()
    {
        var store = new DirectoryObjectStore(_root);
        var kept = new ObjectRef("staging", "runs/b/out.ndjson");
        var deleted = new ObjectRef("staging", "runs/a/deep/out.ndjson");
        await store.WriteAsync(kept, (s, ct) => s.WriteAsync(new byte[1], ct).AsTask());
        await store.WriteAsync(deleted, (s, ct) => s.WriteAsync(new byte[1], ct).AsTask());

        await store.DeleteAsync(deleted);

        Directory.Exists(Path.Combine(_root, "staging", "runs", "a")).Should().BeFalse();
        Directory.Exists(Path.Combine(_root, "staging", "runs", "b")).Should().BeTrue("it still holds an object");
        await store.DeleteAsync(kept);
        Directory.Exists(Path.Combine(_root, "staging", "runs")).Should().BeFalse();
        Directory.Exists(Path.Combine(_root, "staging")).Should().BeTrue("the bucket stays");
    }

    [Fact]
    public async Task A_mapped_bucket_keeps_its_directories_when_an_object_is_deleted()
    {
        var mapped = Directory.CreateDirectory(Path.Combine(_root, "user", "inputs", "day1")).FullName;
        await File.WriteAllTextAsync(Path.Combine(mapped, "a.json"), "[]");
        var store = new DirectoryObjectStore(Path.Combine(_root, "store")).MapBucket("mine", Path.Combine(_root, "user"));

        await store.DeleteAsync(new ObjectRef("mine", "inputs/day1/a.json"));

        Directory.Exists(mapped).Should().BeTrue("a mapped directory belongs to someone else");
    }

    [Fact]
    public async Task A_bucket_mapped_to_the_file_system_root_reads_a_file_by_its_full_path()
    {
        var file = Path.Combine(_root, "input.json");
        await File.WriteAllTextAsync(file, "[]");
        var root = Path.GetPathRoot(file)!;
        var store = new DirectoryObjectStore(Path.Combine(_root, "store")).MapBucket("file:", root);

        var head = await store.HeadAsync(new ObjectRef("file:", Path.GetRelativePath(root, file)));

        head.Size.Should().Be(2);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
