using DataProcess.Core.Ports;

namespace DataProcess.Aws;

/// <summary>
/// S3 answered 403 for an object. S3 gives that answer both when the role may not read the object and,
/// when the role may not <c>s3:ListBucket</c> under the object's prefix, for an object that does not
/// exist: without the list grant "missing" and "forbidden" look the same, so the message names both.
/// </summary>
public sealed class S3AccessDeniedException(ObjectRef obj, string operation, Exception inner)
    : Exception($"s3://{obj.Bucket}/{obj.Key}: access denied to {operation}. S3 answers 403 for an object this function's role may not read, and for a missing object when the role may not s3:ListBucket on bucket {obj.Bucket} under the object's prefix; check that the role grants both", inner)
{
    public ObjectRef Object { get; } = obj;
}
