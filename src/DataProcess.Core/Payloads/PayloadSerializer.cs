using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace DataProcess.Core.Payloads;

/// <summary>Reads and writes the functions' JSON payloads with the source-generated contracts.</summary>
public static class PayloadSerializer
{
    public static async Task<T> ReadAsync<T>(Stream input, JsonTypeInfo<T> contract, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contract);
        try
        {
            return await JsonSerializer.DeserializeAsync(input, contract, cancellationToken)
                ?? throw new PayloadException($"the {contract.Type.Name} payload is null");
        }
        catch (JsonException e)
        {
            throw new PayloadException($"the {contract.Type.Name} payload is invalid: {e.Message}");
        }
    }

    /// <summary>Calls a handler as Lambda does: the payload as a JSON stream in, a JSON stream out.</summary>
    public static async Task<TOut> InvokeAsync<TIn, TOut>(Func<Stream, Task<Stream>> handler, TIn payload, JsonTypeInfo<TIn> input, JsonTypeInfo<TOut> output)
    {
        ArgumentNullException.ThrowIfNull(handler);
        await using var request = Write(payload, input);
        await using var response = await handler(request);
        return await ReadAsync(response, output);
    }

    public static Stream Write<T>(T value, JsonTypeInfo<T> contract)
    {
        var output = new MemoryStream();
        JsonSerializer.Serialize(output, value, contract);
        output.Position = 0;
        return output;
    }
}

/// <summary>A function was invoked with a payload it cannot use.</summary>
internal sealed class PayloadException(string message) : Exception(message);
