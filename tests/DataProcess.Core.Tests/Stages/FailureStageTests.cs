using DataProcess.Core.Payloads;
using DataProcess.Core.Stages;
using DataProcess.Core.Staging;

namespace DataProcess.Core.Tests.Stages;

public sealed class FailureStageTests
{
    [Theory]
    [InlineData("MalformedInputException", """{"errorType":"MalformedInputException","errorMessage":"a.json: malformed JSON at line 2, column 3","stackTrace":["at X"]}""", "a.json: malformed JSON at line 2, column 3")]
    [InlineData("MalformedInputException", "MalformedInputException: a.json: truncated", "a.json: truncated")]
    [InlineData("ProfileException", "unknown dataset 'invoices'", "unknown dataset 'invoices'")]
    [InlineData("DataProcess.NoDataset", "The object key has no dataset segment", "The object key has no dataset segment")]
    [InlineData("States.Timeout", "the task timed out", "States.Timeout: the task timed out")]
    [InlineData("States.Timeout", null, "States.Timeout")]
    [InlineData("Lambda.Unknown", "{not json", "Lambda.Unknown: {not json")]
    [InlineData("Lambda.Unknown", """{"errorType":"Runtime.ExitError","errorMessage":"exited"}""", "Lambda.Unknown: exited")]
    public void Describes_a_caught_error_by_its_message_without_exception_type_names(string error, string? cause, string expected)
    {
        FailureStage.Describe(new CaughtError { Error = error, Cause = cause }).Should().Be(expected);
    }

    [Fact]
    public void Caps_the_ledger_error_text()
    {
        FailureStage.Describe(new CaughtError { Error = "E", Cause = new string('x', 5000) }).Should().HaveLength(2000);
    }
}
