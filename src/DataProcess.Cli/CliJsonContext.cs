using System.Text.Json.Serialization;

namespace DataProcess.Cli;

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
