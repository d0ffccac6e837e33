namespace DataProcess.Core.Records;

/// <summary>
/// The input file cannot be read as records. The whole run is refused: its message names the file
/// and the place (line and column, or byte offset) and what was expected, never record content.
/// </summary>
internal sealed class MalformedInputException(string message) : Exception(message);
