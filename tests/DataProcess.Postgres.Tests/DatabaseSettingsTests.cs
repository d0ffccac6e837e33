using DataProcess.Core.Ports;
using DataProcess.Postgres;
using Npgsql;

namespace DataProcess.Postgres.Tests;

public sealed class DatabaseSettingsTests
{
    private const string Password = "s3cr3t-Pa55word!";

    [Fact]
    public void Host_port_and_name_come_from_the_environment_and_the_connection_is_encrypted()
    {
        var settings = DatabaseSettings.FromEnvironment(Environment(("DATAPROCESS_DB_HOST", "db.cluster.local"), ("DATAPROCESS_DB_PORT", "5433"), ("DATAPROCESS_DB_NAME", "dataprocess"), ("DATAPROCESS_DB_USER", "dataprocess_app")));

        var builder = settings.DataSourceBuilder("dataprocess_app").ConnectionStringBuilder;

        settings.User.Should().Be("dataprocess_app");
        settings.SecretId.Should().BeNull();
        builder.Host.Should().Be("db.cluster.local");
        builder.Port.Should().Be(5433);
        builder.Database.Should().Be("dataprocess");
        builder.Username.Should().Be("dataprocess_app");
        builder.SslMode.Should().Be(SslMode.Require);
    }

    [Fact]
    public void A_root_certificate_turns_on_full_verification_of_the_database_server()
    {
        var settings = DatabaseSettings.FromEnvironment(Environment(("DATAPROCESS_DB_HOST", "h"), ("DATAPROCESS_DB_NAME", "d"), ("DATAPROCESS_DB_SECRET_ID", "s"), ("DATAPROCESS_DB_SSL_ROOT_CERT", "/var/task/rds-ca.pem")));

        var builder = settings.DataSourceBuilder("u").ConnectionStringBuilder;

        settings.Port.Should().Be(5432);
        builder.SslMode.Should().Be(SslMode.VerifyFull);
        builder.RootCertificate.Should().Be("/var/task/rds-ca.pem");
    }

    [Theory]
    [InlineData("db.cluster.local", null, SslMode.Require)]
    [InlineData("db.cluster.local", "/var/task/rds-ca-bundle.pem", SslMode.VerifyFull)]
    [InlineData("/tmp/dataprocess-pg-1234", null, SslMode.Disable)]
    [InlineData("/tmp/dataprocess-pg-1234", "/var/task/rds-ca-bundle.pem", SslMode.Disable)]
    public void Tls_is_verified_with_a_ca_bundle_required_without_and_off_on_a_unix_socket(string host, string? rootCertificate, SslMode expected) =>
        new DatabaseSettings { Host = host, Database = "d", RootCertificate = rootCertificate, User = "u" }.DataSourceBuilder("u").ConnectionStringBuilder.SslMode.Should().Be(expected);

    [Theory]
    [InlineData("DATAPROCESS_DB_HOST", "the environment variable DATAPROCESS_DB_HOST is not set*")]
    [InlineData("DATAPROCESS_DB_NAME", "the environment variable DATAPROCESS_DB_NAME is not set*")]
    [InlineData("DATAPROCESS_DB_USER", "no database login: set DATAPROCESS_DB_USER*DATAPROCESS_DB_SECRET_ID*")]
    public void A_missing_setting_is_refused_naming_the_variable(string missing, string message)
    {
        var variables = new[] { ("DATAPROCESS_DB_HOST", "h"), ("DATAPROCESS_DB_NAME", "d"), ("DATAPROCESS_DB_USER", "dataprocess_app") }.Where(v => v.Item1 != missing).ToArray();

        var read = () => DatabaseSettings.FromEnvironment(Environment(variables));

        read.Should().Throw<InvalidOperationException>().WithMessage(message);
    }

    [Fact]
    public void A_role_and_the_master_secret_together_are_a_configuration_error()
    {
        var read = () => DatabaseSettings.FromEnvironment(Environment(("DATAPROCESS_DB_HOST", "h"), ("DATAPROCESS_DB_NAME", "d"), ("DATAPROCESS_DB_USER", "dataprocess_app"), ("DATAPROCESS_DB_SECRET_ID", "s")));

        read.Should().Throw<InvalidOperationException>().WithMessage("both DATAPROCESS_DB_USER and DATAPROCESS_DB_SECRET_ID are set*");
    }

    [Theory]
    [InlineData("port")]
    [InlineData("0")]
    [InlineData("70000")]
    public void A_port_that_is_not_a_port_number_is_refused(string port)
    {
        var read = () => DatabaseSettings.FromEnvironment(Environment(("DATAPROCESS_DB_HOST", "h"), ("DATAPROCESS_DB_NAME", "d"), ("DATAPROCESS_DB_USER", "u"), ("DATAPROCESS_DB_PORT", port)));

        read.Should().Throw<InvalidOperationException>().WithMessage("DATAPROCESS_DB_PORT is not a port number");
    }

    [Fact]
    public async Task The_master_secret_gives_the_user_and_password()
    {
        var (username, password) = await DatabaseCredentials.ReadAsync(new StaticSecrets($$"""{"username":"admin","password":"{{Password}}"}"""), "arn:db");

        username.Should().Be("admin");
        password.Should().Be(Password);
    }

    [Theory]
    [InlineData($$"""{"username":"admin","password":{{"\"" + Password}}""")]
    [InlineData($$"""{"user":"admin","password":"{{Password}}"}""")]
    [InlineData($$"""["admin","{{Password}}"]""")]
    public async Task A_malformed_database_secret_is_refused_without_the_password_in_the_message(string secret)
    {
        var refused = await FluentActions.Invoking(() => DatabaseCredentials.ReadAsync(new StaticSecrets(secret), "db-secret")).Should().ThrowAsync<SecretUnavailableException>();

        refused.Which.Message.Should().Contain("db-secret").And.NotContain(Password);
        refused.Which.InnerException.Should().BeNull();
    }

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private sealed class StaticSecrets(string value) : ISecretReader
    {
        public Task<string> ReadAsync(string secretId, CancellationToken cancellationToken = default) => Task.FromResult(value);
    }
}
