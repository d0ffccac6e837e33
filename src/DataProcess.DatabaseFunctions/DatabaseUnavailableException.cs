namespace DataProcess.DatabaseFunctions;

/// <summary>
/// The database could not be reached or dropped the connection: worth retrying. Aurora Serverless v2
/// takes several seconds to resume from auto-pause; the state machine retries this error (by its
/// type name, which is what the Lambda runtime reports) with a longer backoff than other errors.
/// </summary>
public sealed class DatabaseUnavailableException(string message, Exception inner) : Exception(message, inner);
