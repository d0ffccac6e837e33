using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using DataProcess.Aws;
using DataProcess.Aws.HttpApi;
using DataProcess.Testing;

namespace DataProcess.UploadUrl.Tests;

public sealed class UploadUrlFunctionTests
{
    private static readonly Guid Id = Guid.Parse("0b9e4bd2-4c1f-4d7a-9d55-2f0d7f5f4a10");
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 30, 0, TimeSpan.Zero);
    private static readonly UploadSettings Settings = new() { Bucket = "dataprocess-dev-input", Datasets = new HashSet<string> { "customers", "orders" }, MaxBytes = 10_000_000, Expiry = TimeSpan.FromMinutes(15) };

    [Fact]
    public async Task A_valid_request_gets_201_with_a_presigned_post_for_a_server_chosen_key()
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", """{"dataset":"customers","filename":"customers.json","contentType":"application/json","size":1234}"""));

        response.StatusCode.Should().Be(201);
        response.Headers["Content-Type"].Should().Be("application/json");
        response.Headers["Cache-Control"].Should().Be("no-store");
        var body = JsonNode.Parse(response.Body)!;
        body["key"]!.GetValue<string>().Should().Be($"incoming/customers/2026/11/27/{Id:D}/customers.json");
        body["method"]!.GetValue<string>().Should().Be("POST");
        body["url"]!.GetValue<string>().Should().Be("http://127.0.0.1:4568/dataprocess-dev-input/");
        body["expiresAt"]!.GetValue<string>().Should().Be("2026-11-27T09:45:00Z");
        body["maxSize"]!.GetValue<long>().Should().Be(1234);
        var fields = body["fields"]!.AsObject();
        fields["key"]!.GetValue<string>().Should().Be(body["key"]!.GetValue<string>());
        fields["Content-Type"]!.GetValue<string>().Should().Be("application/json");
        fields.Select(f => f.Key).Should().Contain(["Policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"]);
    }

    [Fact]
    public async Task The_signed_policy_lets_s3_enforce_the_key_the_type_the_size_and_the_expiry()
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", """{"dataset":"customers","filename":"customers.ndjson","contentType":"application/x-ndjson","size":5000}"""));

        var fields = JsonNode.Parse(response.Body)!["fields"]!;
        var policy = JsonNode.Parse(Convert.FromBase64String(fields["Policy"]!.GetValue<string>()))!;
        policy["expiration"]!.GetValue<string>().Should().StartWith("2026-11-27T09:45:00");
        var conditions = policy["conditions"]!.AsArray().Select(c => c!.ToJsonString()).ToList();
        conditions.Should().Contain("""["content-length-range",1,5000]""");
        conditions.Should().Contain("""{"Content-Type":"application/x-ndjson"}""");
        conditions.Should().Contain($$"""{"key":"incoming/customers/2026/11/27/{{Id:D}}/customers.ndjson"}""");
        conditions.Should().Contain("""{"bucket":"dataprocess-dev-input"}""");
    }

    [Fact]
    public async Task Each_dataset_gets_its_own_prefix_and_fileName_is_accepted()
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", """{"dataset":"orders","fileName":"orders.ndjson","contentType":"application/x-ndjson","size":10}"""));

        response.StatusCode.Should().Be(201);
        var body = JsonNode.Parse(response.Body)!;
        body["key"]!.GetValue<string>().Should().Be($"incoming/orders/2026/11/27/{Id:D}/orders.ndjson");
        body["dataset"]!.GetValue<string>().Should().Be("orders");
    }

    [Theory]
    [InlineData("invoices")]
    [InlineData("Customers")]
    [InlineData("../customers")]
    [InlineData("")]
    public async Task An_unknown_dataset_is_refused_with_400_naming_the_datasets_the_stack_has(string dataset)
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", JsonSerializer.Serialize(new { dataset, fileName = "x.json", contentType = "application/json", size = 10 })));

        response.StatusCode.Should().Be(400);
        var problem = JsonNode.Parse(response.Body)!;
        problem["field"]!.GetValue<string>().Should().Be("dataset");
        problem["detail"]!.GetValue<string>().Should().Be($"unknown dataset '{dataset}': this stack has datasets customers, orders");
        response.Body.Should().NotContain("Policy");
    }

    [Fact]
    public async Task A_base64_encoded_body_is_decoded()
    {
        var body = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"dataset":"customers","filename":"a.jsonl","contentType":"application/jsonl","size":10}"""));

        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", body, base64: true));

        response.StatusCode.Should().Be(201);
        JsonNode.Parse(response.Body)!["key"]!.GetValue<string>().Should().EndWith("/a.jsonl");
    }

    [Theory]
    [InlineData(null, "body")]
    [InlineData("", "body")]
    [InlineData("not json", "body")]
    [InlineData("[1,2]", "body")]
    [InlineData("\"customers.json\"", "body")]
    [InlineData("""{"dataset":"customers","contentType":"application/json","size":10}""", "filename")]
    [InlineData("""{"filename":"customers.json","contentType":"application/json","size":10}""", "dataset")]
    [InlineData("""{"dataset":7,"filename":"customers.json","contentType":"application/json","size":10}""", "dataset")]
    [InlineData("""{"dataset":"customers","filename":42,"contentType":"application/json","size":10}""", "filename")]
    [InlineData("""{"dataset":"customers","filename":"customers.csv","contentType":"application/json","size":10}""", "filename")]
    [InlineData("""{"dataset":"customers","filename":"customers","contentType":"application/json","size":10}""", "filename")]
    [InlineData("""{"dataset":"customers","filename":".json","contentType":"application/json","size":10}""", "filename")]
    [InlineData("""{"dataset":"customers","filename":"../..","contentType":"application/json","size":10}""", "filename")]
    [InlineData("""{"dataset":"customers","filename":"bad\u0000name.json","contentType":"application/json","size":10}""", "filename")]
    [InlineData("""{"dataset":"customers","filename":"line\nbreak.json","contentType":"application/json","size":10}""", "filename")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","size":10}""", "contentType")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"text/csv","size":10}""", "contentType")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"application/octet-stream","size":10}""", "contentType")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"application/json"}""", "size")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"application/json","size":"10"}""", "size")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"application/json","size":1.5}""", "size")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"application/json","size":0}""", "size")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"application/json","size":-1}""", "size")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"application/json","size":10000001}""", "size")]
    [InlineData("""{"dataset":"customers","filename":"customers.json","contentType":"application/json","size":99999999999999999999}""", "size")]
    public async Task A_bad_request_gets_400_with_a_problem_naming_the_field(string? body, string field)
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", body));

        response.StatusCode.Should().Be(400);
        response.Headers["Content-Type"].Should().Be("application/problem+json");
        var problem = JsonNode.Parse(response.Body)!;
        problem["status"]!.GetValue<int>().Should().Be(400);
        problem["field"]!.GetValue<string>().Should().Be(field);
        problem["detail"]!.GetValue<string>().Should().Contain(field == "body" ? "body" : field);
    }

    [Fact]
    public async Task An_oversized_file_is_refused_with_the_limit_in_the_message()
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", """{"dataset":"customers","filename":"big.json","contentType":"application/json","size":10000001}"""));

        JsonNode.Parse(response.Body)!["detail"]!.GetValue<string>().Should().Be("size 10000001 exceeds the limit of 10000000 bytes");
    }

    [Fact]
    public async Task A_body_marked_base64_that_is_not_base64_is_refused()
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", "{not base64}", base64: true));

        response.StatusCode.Should().Be(400);
        JsonNode.Parse(response.Body)!["field"]!.GetValue<string>().Should().Be("body");
    }

    [Theory]
    [InlineData("../../etc/passwd.json", "passwd.json")]
    [InlineData("..\\..\\windows\\system32\\x.json", "x.json")]
    [InlineData("/abs/path/data.NDJSON", "data.ndjson")]
    [InlineData("..json.json", "json.json")]
    [InlineData("my customers (final) é.json", "my_customers_final.json")]
    [InlineData(".hidden.jsonl", "hidden.jsonl")]
    [InlineData("a%2F..%2Fb.json", "a_2F.._2Fb.json")]
    public async Task A_name_with_directories_or_unsafe_characters_is_sanitised_into_the_last_key_segment(string filename, string expected)
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", JsonSerializer.Serialize(new { dataset = "customers", filename, contentType = "application/json", size = 10 })));

        response.StatusCode.Should().Be(201);
        var key = JsonNode.Parse(response.Body)!["key"]!.GetValue<string>();
        key.Should().Be($"incoming/customers/2026/11/27/{Id:D}/{expected}");
        key.Split('/').Should().NotContain(s => s == ".." || s == ".");
    }

    [Fact]
    public async Task A_long_name_is_cut_to_100_characters_keeping_its_extension()
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", JsonSerializer.Serialize(new { dataset = "customers", filename = new string('x', 300) + ".json", contentType = "application/json", size = 10 })));

        var name = JsonNode.Parse(response.Body)!["key"]!.GetValue<string>().Split('/')[^1];
        name.Should().HaveLength(100).And.EndWith(".json");
    }

    [Fact]
    public async Task A_content_type_with_parameters_is_normalised()
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", "/uploads", """{"dataset":"customers","filename":"c.json","contentType":"Application/JSON; charset=utf-8","size":10}"""));

        JsonNode.Parse(response.Body)!["fields"]!["Content-Type"]!.GetValue<string>().Should().Be("application/json");
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Another_method_on_the_uploads_route_gets_405(string method)
    {
        var response = await InvokeAsync(HttpApiEvents.Create(method, "/uploads", null));

        response.StatusCode.Should().Be(405);
        response.Headers["Allow"].Should().Be("POST");
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/upload")]
    [InlineData("/uploads/123")]
    [InlineData("/runs")]
    public async Task Another_route_gets_404(string path)
    {
        var response = await InvokeAsync(HttpApiEvents.Create("POST", path, """{"dataset":"customers","filename":"c.json","contentType":"application/json","size":10}"""));

        response.StatusCode.Should().Be(404);
        response.Headers["Content-Type"].Should().Be("application/problem+json");
    }

    [Fact]
    public void The_settings_come_from_the_environment_with_safe_defaults()
    {
        var settings = UploadSettings.FromEnvironment(name => name switch { UploadSettings.BucketVariable => "b", UploadSettings.DatasetsVariable => "customers, orders", _ => null });

        settings.Should().BeEquivalentTo(new UploadSettings { Bucket = "b", Datasets = new HashSet<string> { "customers", "orders" }, Prefix = "incoming/", MaxBytes = 1L << 30, Expiry = TimeSpan.FromMinutes(15) });
        FluentActions.Invoking(() => UploadSettings.FromEnvironment(_ => null)).Should().Throw<InvalidOperationException>().WithMessage("*DATAPROCESS_UPLOAD_BUCKET*");
        FluentActions.Invoking(() => UploadSettings.FromEnvironment(n => n == UploadSettings.BucketVariable ? "b" : null)).Should().Throw<InvalidOperationException>().WithMessage("*DATAPROCESS_UPLOAD_DATASETS*");
        FluentActions.Invoking(() => UploadSettings.FromEnvironment(n => n == UploadSettings.BucketVariable ? "b" : n == UploadSettings.DatasetsVariable ? "customers,Orders 2" : null))
            .Should().Throw<InvalidOperationException>().WithMessage("*'Orders 2' is not a dataset name*");
        FluentActions.Invoking(() => UploadSettings.FromEnvironment(n => n switch { UploadSettings.BucketVariable => "b", UploadSettings.DatasetsVariable => "customers", UploadSettings.ExpiryVariable => "86400", _ => null }))
            .Should().Throw<InvalidOperationException>().WithMessage("*60 and 3600*");
    }

    private static async Task<HttpApiResponse> InvokeAsync(string eventJson)
    {
        // The real S3 presigner on a client with fixed credentials: signing needs no network.
        var s3 = S3Clients.Create(new S3Connection { ServiceUrl = new Uri("http://127.0.0.1:4568"), ForcePathStyle = true, Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), Region = "eu-west-1" });
        var api = new UploadApi(Settings, new S3PostPresigner(s3), new FixedClock(Now), () => Id);
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(eventJson));
        using var request = await JsonDocument.ParseAsync(input);
        var response = await api.HandleAsync(request.RootElement);

        // Through the Lambda wire format and back, as API Gateway would read it.
        using var wire = new MemoryStream();
        response.WriteTo(wire);
        wire.Position = 0;
        return await HttpApiResponse.ReadAsync(wire);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
