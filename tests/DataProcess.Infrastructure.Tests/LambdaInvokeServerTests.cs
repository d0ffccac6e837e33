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

    [Fact]
    public async Task An_invocation_over_the_concurrency_limit_is_answered_as_a_Lambda_throttle_without_running_the_handler()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        async Task<Stream> Slow(Stream input)
        {
            Interlocked.Increment(ref runs);
            started.TrySetResult();
            await release.Task;
            return new MemoryStream("{}"u8.ToArray());
        }

        Task<Stream> Quick(Stream input) => Task.FromResult<Stream>(new MemoryStream("{}"u8.ToArray()));

        await using var server = new LambdaInvokeServer([("-consolidation", Slow), ("-enrichment", Quick)], port: 0, TextWriter.Null, new Dictionary<string, int> { ["consolidation"] = 1 });
        using var stop = new CancellationTokenSource();
        var serving = server.RunAsync(stop.Token);
        try
        {
            using var http = new HttpClient { BaseAddress = server.Url };
            const string Consolidation = "/2015-03-31/functions/dataprocess-local-consolidation:live/invocations";
            var first = http.PostAsync(Consolidation, new StringContent("{}"));
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

            using var throttled = await http.PostAsync(Consolidation, new StringContent("{}"));
            using var other = await http.PostAsync("/2015-03-31/functions/dataprocess-local-enrichment/invocations", new StringContent("{}"));
            release.SetResult();
            using var firstResponse = await first;
            using var afterwards = await http.PostAsync(Consolidation, new StringContent("{}"));

            throttled.StatusCode.Should().Be((HttpStatusCode)429);
            throttled.Headers.GetValues("x-amzn-ErrorType").Should().Equal("TooManyRequestsException");
            (await throttled.Content.ReadAsStringAsync()).Should().Be("""{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}""");
            other.StatusCode.Should().Be(HttpStatusCode.OK, "the limit is the throttled function's alone");
            firstResponse.StatusCode.Should().Be(HttpStatusCode.OK);
            afterwards.StatusCode.Should().Be(HttpStatusCode.OK, "the slot is free again once the running invocation ends");
            runs.Should().Be(2, "the throttled invocation never reached the handler");
        }
        finally
        {
            release.TrySetResult();
            await stop.CancelAsync();
            await serving;
        }
    }

    [Fact]
    public void A_concurrency_limit_for_a_function_that_does_not_exist_is_refused_naming_the_functions()
    {
        var create = () => new LambdaInvokeServer([("-consolidation", _ => Task.FromResult(Stream.Null))], port: 0, TextWriter.Null, new Dictionary<string, int> { ["consolidate"] = 1 });

        create.Should().Throw<ArgumentException>().WithMessage("--concurrency consolidate=1: there is no function named consolidate; the functions are consolidation*");
    }
}
