using System.Globalization;
using System.Text;
using System.Text.Json;
using DataProcess.Aws.HttpApi;

namespace DataProcess.UploadUrl;

/// <summary>
/// <c>POST /uploads</c> with <c>{"dataset","fileName","contentType","size"}</c> (<c>filename</c> is accepted for
/// <c>fileName</c>) → <c>201</c> with a presigned S3 POST for a key the server chooses
/// (<c>&lt;prefix&gt;&lt;dataset&gt;/&lt;yyyy&gt;/&lt;mm&gt;/&lt;dd&gt;/&lt;uuid&gt;/&lt;sanitised-name&gt;</c>); a dataset the
/// stack has no profile for is refused with <c>400</c> before anything is presigned:
/// the URL, the method, the form fields to send before the file, the key and the expiry. A bad
/// request gets <c>400</c> with a problem document naming the field; another method on
/// <c>/uploads</c> gets <c>405</c>, any other route <c>404</c>.
/// </summary>
public sealed class UploadApi(UploadSettings settings, IUploadPresigner presigner, TimeProvider? clock = null, Func<Guid>? newId = null)
{
    public const string Route = "/uploads";

    /// <summary>Media types accepted for uploads (parameters such as charset are dropped).</summary>
    public static readonly IReadOnlySet<string> ContentTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "application/json", "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines",
    };

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Func<Guid> _newId = newId ?? Guid.NewGuid;

    /// <summary>Handles one HTTP API (payload 2.0) event.</summary>
    public async Task<HttpApiResponse> HandleAsync(JsonElement request)
    {
        var method = request.TryGetProperty("requestContext", out var context) && context.TryGetProperty("http", out var http) && http.TryGetProperty("method", out var m)
            ? m.GetString() ?? string.Empty
            : string.Empty;
        var path = request.TryGetProperty("rawPath", out var p) ? p.GetString() ?? string.Empty : string.Empty;
        if (path.Length > 1)
        {
            path = path.TrimEnd('/');
        }

        if (!string.Equals(path, Route, StringComparison.Ordinal))
        {
            return HttpApiResponse.Problem(404, "Not Found", $"no route {path}; uploads are requested with POST {Route}");
        }

        if (!string.Equals(method, "POST", StringComparison.OrdinalIgnoreCase))
        {
            return HttpApiResponse.Problem(405, "Method Not Allowed", $"{Route} accepts POST only", extraHeaders: new Dictionary<string, string> { ["Allow"] = "POST" });
        }

        var (body, problem) = ReadBody(request);
        if (problem is not null)
        {
            return problem;
        }

        using (body)
        {
            return await CreateAsync(body!.RootElement);
        }
    }

    private async Task<HttpApiResponse> CreateAsync(JsonElement body)
    {
        if (!body.TryGetProperty("dataset", out var datasetElement) || datasetElement.ValueKind != JsonValueKind.String)
        {
            return BadRequest("dataset", $"dataset is required: which dataset the file belongs to ({Known()})");
        }

        var dataset = datasetElement.GetString()!;
        if (!settings.Datasets.Contains(dataset))
        {
            return BadRequest("dataset", $"unknown dataset '{Printable(dataset)}': this stack has {Known()}");
        }

        // fileName is the documented field; filename is what the first clients sent.
        var nameField = body.TryGetProperty("fileName", out var filenameElement) ? "fileName" : "filename";
        if ((nameField == "fileName" ? filenameElement : body.TryGetProperty("filename", out filenameElement) ? filenameElement : default).ValueKind != JsonValueKind.String)
        {
            return BadRequest(nameField, $"{nameField} is required: the name of the file to upload (a string)");
        }

        var (name, nameProblem) = FileNames.Sanitise(filenameElement.GetString()!);
        if (nameProblem is not null)
        {
            return BadRequest(nameField, nameProblem);
        }

        if (!body.TryGetProperty("contentType", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            return BadRequest("contentType", "contentType is required (a string)");
        }

        var contentType = typeElement.GetString()!.Split(';')[0].Trim().ToLowerInvariant();
        if (!ContentTypes.Contains(contentType))
        {
            return BadRequest("contentType", $"contentType must be one of {string.Join(", ", ContentTypes)}");
        }

        if (!body.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out var size))
        {
            return BadRequest("size", "size is required: the file's size in bytes (a whole number)");
        }

        if (size < 1)
        {
            return BadRequest("size", "size must be at least 1 byte");
        }

        if (size > settings.MaxBytes)
        {
            return BadRequest("size", $"size {size} exceeds the limit of {settings.MaxBytes} bytes");
        }

        var now = _clock.GetUtcNow();
        var key = string.Create(CultureInfo.InvariantCulture, $"{settings.Prefix}{dataset}/{now:yyyy}/{now:MM}/{now:dd}/{_newId():D}/{name}");
        var expires = now + settings.Expiry;
        var post = await presigner.PresignAsync(settings.Bucket, key, contentType, size, expires.UtcDateTime);

        return HttpApiResponse.Json(201, w =>
        {
            w.WriteStartObject();
            w.WriteString("key", key);
            w.WriteString("bucket", settings.Bucket);
            w.WriteString("dataset", dataset);
            w.WriteString("method", "POST");
            w.WriteString("url", post.Url.ToString());
            w.WriteStartObject("fields");
            foreach (var (field, value) in post.Fields)
            {
                w.WriteString(field, value);
            }

            w.WriteEndObject();
            w.WriteString("fileField", "file");
            w.WriteString("contentType", contentType);
            w.WriteNumber("maxSize", size);
            w.WriteString("expiresAt", expires.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        });
    }

    private static (JsonDocument? Body, HttpApiResponse? Problem) ReadBody(JsonElement request)
    {
        if (!request.TryGetProperty("body", out var bodyElement) || bodyElement.ValueKind != JsonValueKind.String || bodyElement.GetString() is not { Length: > 0 } text)
        {
            return (null, BadRequest("body", "a JSON body {\"dataset\",\"fileName\",\"contentType\",\"size\"} is required"));
        }

        byte[] bytes;
        if (request.TryGetProperty("isBase64Encoded", out var encoded) && encoded.ValueKind == JsonValueKind.True)
        {
            try
            {
                bytes = Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                return (null, BadRequest("body", "the body is marked base64-encoded but is not base64"));
            }
        }
        else
        {
            bytes = Encoding.UTF8.GetBytes(text);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            return (null, BadRequest("body", "the body is not JSON"));
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, BadRequest("body", "the body must be a JSON object {\"dataset\",\"fileName\",\"contentType\",\"size\"}"));
        }

        return (document, null);
    }

    private string Known() => settings.Datasets.Count == 0
        ? "no datasets: its profiles/ directory is empty"
        : "datasets " + string.Join(", ", settings.Datasets.Order(StringComparer.Ordinal));

    /// <summary>A refused name is echoed back, but not control characters or a whole essay.</summary>
    private static string Printable(string text)
    {
        var clean = new string([.. text.Take(64).Select(c => char.IsControl(c) ? '?' : c)]);
        return text.Length > 64 ? clean + "…" : clean;
    }

    private static HttpApiResponse BadRequest(string field, string detail) => HttpApiResponse.Problem(400, "Bad Request", detail, field);
}
