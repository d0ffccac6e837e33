using System.Net.Http.Headers;
using Amazon.Runtime;

namespace DataProcess.Cli.Tests;

/// <summary>
/// The signer against AWS's published SigV4 test suite (aws-sig-v4-test-suite: credentials AKIDEXAMPLE, region
/// us-east-1, service "service", 2015-08-30T12:36:00Z, host example.amazonaws.com). The expected Authorization
/// headers are the suite's <c>.authz</c> files, copied, not computed here. The suite's requests carry no
/// x-amz-content-sha256 header, so those vectors run with it off; the API calls carry it.
/// </summary>
public sealed class ApiSignerTests
{
    private const string SuiteCredential = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
    private static readonly DateTime SuiteTime = new(2015, 8, 30, 12, 36, 0, DateTimeKind.Utc);

    private static ApiSigner SuiteSigner() =>
        new(new ImmutableCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null), "us-east-1", service: "service", signPayloadHeader: false);

    [Fact]
    public void A_get_without_a_query_matches_the_suite_get_vanilla_vector()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://example.amazonaws.com/");

        SuiteSigner().Sign(request, string.Empty, SuiteTime);

        Authorization(request).Should().Be($"{SuiteCredential}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    }

    [Fact]
    public void Query_parameters_are_sorted_by_name_as_in_the_suite_get_vanilla_query_order_key_case_vector()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://example.amazonaws.com/?Param2=value2&Param1=value1");

        SuiteSigner().Sign(request, string.Empty, SuiteTime);

        Authorization(request).Should().Be($"{SuiteCredential}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    }

    [Fact]
    public void Unreserved_characters_in_the_query_stay_unencoded_as_in_the_suite_get_vanilla_query_unreserved_vector()
    {
        const string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://example.amazonaws.com/?{unreserved}={unreserved}");

        SuiteSigner().Sign(request, string.Empty, SuiteTime);

        Authorization(request).Should().Be($"{SuiteCredential}, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
    }

    [Fact]
    public void A_post_with_a_query_matches_the_suite_post_vanilla_query_vector()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://example.amazonaws.com/?Param1=value1");

        SuiteSigner().Sign(request, string.Empty, SuiteTime);

        Authorization(request).Should().Be($"{SuiteCredential}, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
    }

    [Fact]
    public void A_post_with_a_body_signs_its_content_type_and_payload_hash_as_in_the_suite_post_x_www_form_urlencoded_vector()
    {
        using var content = new StringContent("Param1=value1");
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://example.amazonaws.com/") { Content = content };

        SuiteSigner().Sign(request, "Param1=value1", SuiteTime);

        Authorization(request).Should().Be($"{SuiteCredential}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
    }

    [Fact]
    public void A_different_body_gives_a_different_signature()
    {
        using var content = new StringContent("Param1=value2");
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://example.amazonaws.com/") { Content = content };

        SuiteSigner().Sign(request, "Param1=value2", SuiteTime);

        Authorization(request).Should().NotEndWith("ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
    }

    [Fact]
    public void The_api_call_is_signed_for_execute_api_in_the_region_given_with_the_payload_hash_header()
    {
        var signer = new ApiSigner(new ImmutableCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null), "eu-west-1");
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://abc123.execute-api.eu-west-1.amazonaws.com/uploads")
        {
            Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
        };

        signer.Sign(request, "{}", new DateTime(2026, 11, 27, 9, 0, 0, DateTimeKind.Utc));

        Authorization(request).Should().MatchRegex("^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/eu-west-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$");
        request.Headers.GetValues("x-amz-date").Single().Should().Be("20261127T090000Z");
        request.Headers.GetValues("x-amz-content-sha256").Single().Should().Be("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    }

    [Fact]
    public void A_session_token_is_signed_and_sent()
    {
        var signer = new ApiSigner(new ImmutableCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "TOKEN"), "us-east-1", service: "service", signPayloadHeader: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://example.amazonaws.com/");

        signer.Sign(request, string.Empty, SuiteTime);

        Authorization(request).Should().Contain("SignedHeaders=host;x-amz-date;x-amz-security-token,");
        request.Headers.GetValues("x-amz-security-token").Single().Should().Be("TOKEN");
    }

    private static string Authorization(HttpRequestMessage request) => request.Headers.GetValues("Authorization").Single();
}
