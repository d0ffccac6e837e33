namespace DataProcess.Core.Profiles;

/// <summary>The profile was refused. The message names the file and the field.</summary>
internal sealed class ProfileException(string message) : Exception(message);
