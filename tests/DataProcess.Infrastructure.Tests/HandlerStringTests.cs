using System.Reflection;
using System.Text.RegularExpressions;
using DataProcess.Testing;

namespace DataProcess.Infrastructure.Tests;

public sealed partial class HandlerStringTests
{
    public static TheoryData<string> Handlers() => new(HandlerStrings());

    [Fact]
    public void The_terraform_names_every_function_handler()
    {
        HandlerStrings().Should().Contain(
        [
            "DataProcess.Enrichment::DataProcess.Enrichment.EnrichmentFunction::HandleAsync",
            "DataProcess.Anonymization::DataProcess.Anonymization.AnonymizationFunction::HandleAsync",
            "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.ConsolidationFunction::HandleAsync",
            "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.RecordFailureFunction::HandleAsync",
            "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.ReplayCheckFunction::HandleAsync",
            "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.MigrateFunction::HandleAsync",
            "DataProcess.UploadUrl::DataProcess.UploadUrl.UploadUrlFunction::HandleAsync",
            "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.RunStatusFunction::HandleAsync",
        ]);
    }

    [Theory]
    [MemberData(nameof(Handlers))]
    public void Every_handler_string_resolves_to_a_public_stream_handler(string handler)
    {
        var parts = handler.Split("::");
        parts.Should().HaveCount(3, "a handler string is Assembly::Namespace.Type::Method");

        var assembly = Assembly.Load(parts[0]);
        var type = assembly.GetType(parts[1]);
        type.Should().NotBeNull($"{parts[0]} has a type {parts[1]}");
        type!.IsPublic.Should().BeTrue();
        type.GetConstructor(Type.EmptyTypes).Should().NotBeNull("the Lambda runtime creates the handler with its parameterless constructor");

        var method = type.GetMethod(parts[2], BindingFlags.Public | BindingFlags.Instance, [typeof(Stream)]);
        method.Should().NotBeNull($"{parts[1]} has a public {parts[2]}(Stream)");
        method!.ReturnType.Should().Be<Task<Stream>>();
    }

    /// <summary>Every <c>handler = "..."</c> in the Terraform files.</summary>
    private static List<string> HandlerStrings() =>
        Directory.EnumerateFiles(Repository.Root, "*.tf")
            .SelectMany(file => HandlerAssignment().Matches(File.ReadAllText(file)).Select(match => match.Groups[1].Value))
            .ToList();

    [GeneratedRegex("""^\s*handler\s*=\s*"([^"]+)"\s*$""", RegexOptions.Multiline)]
    private static partial Regex HandlerAssignment();
}
