using Amazon;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using DataProcess.Core.Local;
using DataProcess.Core.Ports;
using Npgsql;

namespace DataProcess.Aws.Tests;

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
    public async Task The_database_connection_takes_host_port_and_name_from_the_environment_and_credentials_from_the_secret()
    {
        var environment = Environment(("DATAPROCESS_DB_HOST", "db.cluster.local"), ("DATAPROCESS_DB_PORT", "5433"), ("DATAPROCESS_DB_NAME", "dataprocess"), ("DATAPROCESS_DB_SECRET_ID", "arn:db"));

        var connectionString = await AwsFunctionEnvironment.DatabaseConnectionStringAsync(environment, () => new StaticSecrets($$"""{"username":"admin","password":"{{Password}}"}"""));

        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Host.Should().Be("db.cluster.local");
        builder.Port.Should().Be(5433);
        builder.Database.Should().Be("dataprocess");
        builder.Username.Should().Be("admin");
        builder.Password.Should().Be(Password);
        builder.SslMode.Should().Be(SslMode.Require);
    }

    [Fact]
    public async Task A_root_certificate_turns_on_full_verification_of_the_database_server()
    {
        var environment = Environment(("DATAPROCESS_DB_HOST", "h"), ("DATAPROCESS_DB_NAME", "d"), ("DATAPROCESS_DB_SECRET_ID", "s"), ("DATAPROCESS_DB_SSL_ROOT_CERT", "/var/task/rds-ca.pem"));

        var builder = new NpgsqlConnectionStringBuilder(await DatabaseCredentials.ConnectionStringAsync(new StaticSecrets("""{"username":"u","password":"p"}"""), environment));

        builder.SslMode.Should().Be(SslMode.VerifyFull);
        builder.RootCertificate.Should().Be("/var/task/rds-ca.pem");
    }

    [Theory]
    [InlineData($$"""{"username":"admin","password":{{"\"" + Password}}""")]
    [InlineData($$"""{"user":"admin","password":"{{Password}}"}""")]
    [InlineData($$"""["admin","{{Password}}"]""")]
    public async Task A_malformed_database_secret_is_refused_without_the_password_in_the_message(string secret)
    {
        var environment = Environment(("DATAPROCESS_DB_HOST", "h"), ("DATAPROCESS_DB_NAME", "d"), ("DATAPROCESS_DB_SECRET_ID", "db-secret"));

        var refused = await FluentActions.Invoking(() => DatabaseCredentials.ConnectionStringAsync(new StaticSecrets(secret), environment)).Should().ThrowAsync<SecretUnavailableException>();

        refused.Which.Message.Should().Contain("db-secret").And.NotContain(Password);
        refused.Which.InnerException.Should().BeNull();
    }

    [Fact]
    public async Task A_local_connection_string_wins_over_the_aws_database_settings()
    {
        var environment = Environment(("DATAPROCESS_DATABASE", "Host=/tmp;Database=x"), ("DATAPROCESS_DB_SECRET_ID", "s"));

        var connectionString = await AwsFunctionEnvironment.DatabaseConnectionStringAsync(environment, () => throw new InvalidOperationException("no SSM locally"));

        connectionString.Should().Be("Host=/tmp;Database=x");
    }

    [Fact]
    public async Task No_database_setting_at_all_is_a_clear_error()
    {
        var read = () => AwsFunctionEnvironment.DatabaseConnectionStringAsync(Environment(), () => new StaticSecrets(""));

        await read.Should().ThrowAsync<InvalidOperationException>().WithMessage("no database configured*DATAPROCESS_DATABASE*DATAPROCESS_DB_SECRET_ID*");
    }

    [Fact]
    public void The_hmac_key_comes_from_secrets_manager_when_a_secret_id_is_set_and_from_the_local_key_otherwise()
    {
        AwsFunctionEnvironment.HmacKeys(Environment(("DATAPROCESS_HMAC_SECRET_ID", "hmac")), () => new StaticSecrets(Key)).Should().BeOfType<SecretsManagerHmacKeySource>();
        AwsFunctionEnvironment.HmacKeys(Environment(), () => throw new InvalidOperationException()).Should().BeOfType<LocalHmacKeySource>();
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
