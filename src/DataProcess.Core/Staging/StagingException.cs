namespace DataProcess.Core.Staging;

/// <summary>The stage outputs are missing, truncated or disagree: the run cannot be consolidated.</summary>
internal sealed class StagingException(string message) : Exception(message);
