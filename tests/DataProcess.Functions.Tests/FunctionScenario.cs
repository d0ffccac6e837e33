using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization.Metadata;
using DataProcess.Anonymization;
using DataProcess.DatabaseFunctions;
using DataProcess.Local;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Enrichment;
using DataProcess.Postgres;

namespace DataProcess.Functions.Tests;

/// <summary>
/// A directory object store with a source file and a profile, and the four handlers over it, called
/// the way Lambda calls them: a JSON payload stream in, a JSON stream out.
/// </summary>
internal sealed class FunctionScenario : IAsyncDisposable
{
    public const string Profile = """
        {
          "dataset": "customers",
          "records": "$.result",
          "id": "id",
          "require": ["email"],
          "anonymize": { "email": "hash", "name": "hash", "phone": "mask", "birthDate": "year",
                         "ip": "ip-prefix", "friends[*].phone": "redact", "friends[*].name": "hash" },
          "enrich": { "email_domain": { "fn": "email-domain", "from": "email" },
                      "age": { "fn": "age", "from": "birthDate" },
                      "country": { "fn": "country-name", "from": "address.country" } }
        }
        """;

    /// <summary>Personal values in <see cref="Customers"/>: none may survive anonymization anywhere.</summary>
    public static readonly string[] PersonalValues =
    [
        "ada.lovelace@example.org", "Ada Lovelace", "+441632960001", "1815-12-10", "203.0.113.77",
        "Charles Babbage", "+441632960002", "grace.hopper@example.net", "Grace Hopper", "+12025550143",
        "1906-12-09", "2001:db8:85a3:1234:5678:8a2e:370:7334", "Alan Turing", "turing@example.com",
    ];

    public const string Customers = """
        {"meta":{"count":5},"result":[
          {"id":"c1","name":"Ada Lovelace","email":"ada.lovelace@example.org","phone":"+441632960001","birthDate":"1815-12-10",
           "ip":"203.0.113.77","address":{"city":"London","country":"GB"},"friends":[{"name":"Charles Babbage","phone":"+441632960002"}]},
          {"id":"c2","name":"Grace Hopper","email":"grace.hopper@example.net","phone":"+12025550143","birthDate":"Sun, 09 Dec 1906 00:00:00 GMT",
           "ip":"2001:db8:85a3:1234:5678:8a2e:370:7334","address":{"city":"New York","country":"US"},"friends":[]},
          {"id":"c3","name":"Alan Turing","phone":"+441632960003"},
          42,
          {"id":"c1","name":"Ada Lovelace","email":"ada.lovelace@example.org","phone":"+441632960001","birthDate":"1815-12-10",
           "ip":"203.0.113.77","address":{"city":"Marylebone","country":"GB"},"friends":[]}
        ]}
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("dp-functions-").FullName;

    public FunctionScenario(string connectionString, string source = Customers, byte[]? key = null)
    {
        Store = new DirectoryObjectStore(_root);
        Key = key ?? RandomNumberGenerator.GetBytes(32);
        Write("input", "incoming/customers.json", source);
        Write("config", "profiles/customers.json", Profile);
        Sink = PostgresRecordSink.Create(connectionString);
        Keys = new FixedKey(Key);
        Enrichment = new EnrichmentFunction(Store);
        Anonymization = new AnonymizationFunction(Store, Keys);
        Consolidation = new ConsolidationFunction(Store, Sink);
        Failure = new RecordFailureFunction(Store, Sink, quarantine: true);
        Request = new StageRequest
        {
            RunId = Guid.NewGuid(),
            StartedAt = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero),
            Source = new ObjectRef("input", "incoming/customers.json"),
            SourceETag = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(source))),
            Profile = new ObjectRef("config", "profiles/customers.json"),
            Staging = new StagingLocation("staging", "staging"),
        };
    }

    public DirectoryObjectStore Store { get; }

    public byte[] Key { get; }

    public IHmacKeySource Keys { get; }

    public PostgresRecordSink Sink { get; }

    public EnrichmentFunction Enrichment { get; }

    public AnonymizationFunction Anonymization { get; }

    public ConsolidationFunction Consolidation { get; }

    public RecordFailureFunction Failure { get; }

    public StageRequest Request { get; set; }

    public string Root => _root;

    public static Task<TOut> InvokeAsync<TIn, TOut>(Func<Stream, Task<Stream>> handler, TIn payload, JsonTypeInfo<TIn> input, JsonTypeInfo<TOut> output) =>
        PayloadSerializer.InvokeAsync(handler, payload, input, output);

    public Task<StageResult> EnrichAsync() =>
        InvokeAsync(Enrichment.HandleAsync, Request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.StageResult);

    public Task<StageResult> AnonymizeAsync() =>
        InvokeAsync(Anonymization.HandleAsync, Request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.StageResult);

    /// <summary>The state machine's happy path: both stages, then Consolidation.</summary>
    public async Task<RunSummary> RunAsync()
    {
        var stages = await Task.WhenAll(EnrichAsync(), AnonymizeAsync());
        var request = ConsolidationRequest.After(Request, stages);
        return await InvokeAsync(Consolidation.HandleAsync, request, PayloadJsonContext.Default.ConsolidationRequest, PayloadJsonContext.Default.RunSummary);
    }

    public string ReadText(ObjectRef obj) => File.ReadAllText(Path.Combine(_root, obj.Bucket, obj.Key));

    public void Write(string bucket, string key, string content)
    {
        var path = Path.Combine(_root, bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public async ValueTask DisposeAsync()
    {
        await Sink.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private sealed class FixedKey(byte[] key) : IHmacKeySource
    {
        public Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default) => Task.FromResult(new HmacKey(key));
    }
}
