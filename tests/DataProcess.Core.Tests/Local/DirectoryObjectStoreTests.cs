using System.Security.Cryptography;
using System.Text;
using DataProcess.Core.Local;
using DataProcess.Core.Ports;

namespace DataProcess.Core.Tests.Local;

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

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
