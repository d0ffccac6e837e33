using System.Net;
using System.Text;
using DataProcess.Cli;

namespace DataProcess.Infrastructure.Tests;

/// <summary>
/// The state machine invokes each function through its alias (Terraform renders
/// <c>function:&lt;name&gt;:live</c> into the Task Resources), so the local Lambda endpoint must answer
/// a qualified name the way Lambda does: the qualifier selects a version, the name the function.
/// </summary>
public sealed class LambdaInvokeServerTests
{
    [Theory]
    [InlineData("dataprocess-dev-consolidation")]
    [InlineData("dataprocess-dev-consolidation:live")]
    [InlineData("dataprocess-dev-consolidation:7")]
    [InlineData("123456789012:function:dataprocess-dev-consolidation:live")]
    [InlineData("arn:aws:lambda:eu-west-1:123456789012:function:dataprocess-dev-consolidation")]
    [InlineData("arn:aws:lambda:eu-west-1:123456789012:function:dataprocess-dev-consolidation:live")]
    public void A_name_or_arn_with_or_without_a_qualifier_names_the_function(string nameOrArn) =>
        LambdaInvokeServer.FunctionName(nameOrArn).Should().Be("dataprocess-dev-consolidation");

    [Fact]
    public async Task An_invocation_of_an_alias_arn_reaches_the_function_it_qualifies()
    {
        var served = new List<string>();
        Task<Stream> Echo(string name, Stream input)
        {
            served.Add(name);
            return Task.FromResult<Stream>(new MemoryStream(Encoding.UTF8.GetBytes($$"""{"function":"{{name}}"}""")));
        }

        await using var server = new LambdaInvokeServer([("-consolidation", input => Echo("consolidation", input)), ("-enrichment", input => Echo("enrichment", input))], port: 0, TextWriter.Null);
        using var stop = new CancellationTokenSource();
        var serving = server.RunAsync(stop.Token);
        try
        {
            using var http = new HttpClient { BaseAddress = server.Url };
            var arn = Uri.EscapeDataString("arn:aws:lambda:us-east-1:000000000000:function:dataprocess-local-consolidation:live");
            using var response = await http.PostAsync($"/2015-03-31/functions/{arn}/invocations", new StringContent("{}"));

            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync()).Should().Be("""{"function":"consolidation"}""");
            served.Should().Equal("consolidation");
        }
        finally
        {
            await stop.CancelAsync();
            await serving;
        }
    }
}
