using System.Text.Json.Nodes;

namespace DataProcess.Testing;

/// <summary>Requests as API Gateway's HTTP API hands them to a function.</summary>
public static class HttpApiEvents
{
    /// <summary>An HTTP API payload 2.0 event, as API Gateway sends it.</summary>
    public static string Create(string method, string path, string? body, bool base64 = false)
    {
        var e = new JsonObject
        {
            ["version"] = "2.0",
            ["routeKey"] = "$default",
            ["rawPath"] = path,
            ["rawQueryString"] = "",
            ["headers"] = new JsonObject { ["content-type"] = "application/json", ["host"] = "abc123.execute-api.eu-west-1.amazonaws.com" },
            ["requestContext"] = new JsonObject
            {
                ["accountId"] = "123456789012",
                ["apiId"] = "abc123",
                ["domainName"] = "abc123.execute-api.eu-west-1.amazonaws.com",
                ["http"] = new JsonObject { ["method"] = method, ["path"] = path, ["protocol"] = "HTTP/1.1", ["sourceIp"] = "203.0.113.7", ["userAgent"] = "dataprocess" },
                ["requestId"] = "id",
                ["routeKey"] = "$default",
                ["stage"] = "$default",
                ["timeEpoch"] = 1796031000000,
            },
            ["isBase64Encoded"] = base64,
        };
        if (body is not null)
        {
            e["body"] = body;
        }

        return e.ToJsonString();
    }
}
