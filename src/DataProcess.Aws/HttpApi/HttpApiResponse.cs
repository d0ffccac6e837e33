using System.Text;
using System.Text.Json;

namespace DataProcess.Aws.HttpApi;

/// <summary>An API Gateway HTTP API (payload 2.0) response: status, headers and a JSON body as a string.</summary>
public sealed record HttpApiResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public static HttpApiResponse Json(int status, Action<Utf8JsonWriter> body, string contentType = "application/json", IReadOnlyDictionary<string, string>? extraHeaders = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            body(writer);
        }

        var headers = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Content-Type"] = contentType,
            ["Cache-Control"] = "no-store",
        };
        foreach (var (name, value) in extraHeaders ?? new Dictionary<string, string>())
        {
            headers[name] = value;
        }

        return new HttpApiResponse(status, headers, Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>An RFC 9457 problem (<c>application/problem+json</c>); <paramref name="field"/> names the request field at fault.</summary>
    public static HttpApiResponse Problem(int status, string title, string detail, string? field = null, IReadOnlyDictionary<string, string>? extraHeaders = null) =>
        Json(status, w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "about:blank");
            w.WriteString("title", title);
            w.WriteNumber("status", status);
            w.WriteString("detail", detail);
            if (field is not null)
            {
                w.WriteString("field", field);
            }

            w.WriteEndObject();
        }, "application/problem+json", extraHeaders);

    /// <summary>A Lambda handler's body: the HTTP API event in, <paramref name="handle"/>'s response out as Lambda returns it.</summary>
    public static async Task<Stream> HandleAsync(Stream input, Func<JsonElement, Task<HttpApiResponse>> handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        using var request = await JsonDocument.ParseAsync(input);
        var response = await handle(request.RootElement);
        var output = new MemoryStream();
        response.WriteTo(output);
        output.Position = 0;
        return output;
    }

    /// <summary>The payload Lambda returns to API Gateway.</summary>
    public void WriteTo(Stream output)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteNumber("statusCode", StatusCode);
        writer.WriteStartObject("headers");
        foreach (var (name, value) in Headers)
        {
            writer.WriteString(name, value);
        }

        writer.WriteEndObject();
        writer.WriteString("body", Body);
        writer.WriteBoolean("isBase64Encoded", false);
        writer.WriteEndObject();
    }

    public static async Task<HttpApiResponse> ReadAsync(Stream input)
    {
        using var document = await JsonDocument.ParseAsync(input);
        var root = document.RootElement;
        var headers = root.TryGetProperty("headers", out var h) && h.ValueKind == JsonValueKind.Object
            ? h.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        return new HttpApiResponse(root.GetProperty("statusCode").GetInt32(), headers, root.TryGetProperty("body", out var b) ? b.GetString() ?? string.Empty : string.Empty);
    }
}
