using Amazon;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using DataProcess.Core.Ports;

namespace DataProcess.Aws.Secrets.Tests;

public sealed class SecretsTests
{
    private const string Password = "s3cr3t-Pa55word!";
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public async Task The_secret_is_read_through_the_ssm_secrets_manager_reference_with_decryption()
    {
        var ssm = new FakeSsm(_ => "value");
        var reader = new SsmSecretReader(ssm);

        (await reader.ReadAsync("dataprocess-dev-hmac")).Should().Be("value");

        ssm.Requests.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Name = "/aws/reference/secretsmanager/dataprocess-dev-hmac", WithDecryption = true });
    }

    [Fact]
    public async Task A_secret_is_cached_per_process_until_its_time_to_live_ends()
    {
        var clock = new ManualClock();
        var ssm = new FakeSsm(_ => "value");
        var reader = new SsmSecretReader(ssm, TimeSpan.FromMinutes(5), clock);

        await reader.ReadAsync("id");
        clock.Advance(TimeSpan.FromMinutes(4));
        await reader.ReadAsync("id");
        ssm.Requests.Should().HaveCount(1);

        clock.Advance(TimeSpan.FromMinutes(2));
        await reader.ReadAsync("id");
        ssm.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task An_ssm_failure_names_the_secret_and_the_error_code()
    {
        var reader = new SsmSecretReader(new FakeSsm(_ => throw new AmazonSimpleSystemsManagementException("denied") { ErrorCode = "AccessDeniedException" }));

        var read = () => reader.ReadAsync("db-secret");

        await read.Should().ThrowAsync<SecretUnavailableException>().WithMessage("the secret db-secret could not be read*(AccessDeniedException)");
    }

    [Fact]
    public async Task The_hmac_key_is_the_base64_value_of_the_secret()
    {
        var keys = new SecretsManagerHmacKeySource(new StaticSecrets(Key), "hmac");

        var key = await keys.GetKeyAsync();

        key.Bytes.ToArray().Should().Equal(Convert.FromBase64String(Key));
    }

    [Fact]
    public async Task A_secret_that_is_not_a_usable_key_is_refused_without_its_value()
    {
        var keys = new SecretsManagerHmacKeySource(new StaticSecrets("not base64 at all!"), "hmac");

        var refused = await keys.Invoking(k => k.GetKeyAsync()).Should().ThrowAsync<KeyRefusedException>();

        refused.Which.Message.Should().Contain("the secret hmac").And.NotContain("not base64 at all");
    }

    [Fact]
    public async Task The_deployed_functions_key_is_the_secret_the_environment_names()
    {
        var keys = SecretsManagerHmacKeySource.FromEnvironment(Environment(("DATAPROCESS_HMAC_SECRET_ID", "arn:hmac")), () => new StaticSecrets(Key));

        (await keys.GetKeyAsync()).Bytes.ToArray().Should().Equal(Convert.FromBase64String(Key));
    }

    [Fact]
    public void A_function_without_a_key_secret_is_refused_naming_the_variable()
    {
        var create = () => SecretsManagerHmacKeySource.FromEnvironment(Environment(), () => throw new InvalidOperationException("not reached"));

        create.Should().Throw<InvalidOperationException>().WithMessage("*DATAPROCESS_HMAC_SECRET_ID is not set*");
    }

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private sealed class StaticSecrets(string value) : ISecretReader
    {
        public Task<string> ReadAsync(string secretId, CancellationToken cancellationToken = default) => Task.FromResult(value);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>The real client type with GetParameter answered in memory (no network).</summary>
    private sealed class FakeSsm(Func<GetParameterRequest, string> answer)
        : AmazonSimpleSystemsManagementClient(new BasicAWSCredentials("AKIDEXAMPLE", "secret"), RegionEndpoint.EUWest1)
    {
        public List<GetParameterRequest> Requests { get; } = [];

        public override Task<GetParameterResponse> GetParameterAsync(GetParameterRequest request, CancellationToken cancellationToken = default)
        {
            Requests.Add(request);
            return Task.FromResult(new GetParameterResponse { Parameter = new Parameter { Name = request.Name, Value = answer(request) } });
        }
    }
}
