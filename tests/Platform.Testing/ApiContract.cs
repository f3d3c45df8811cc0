using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Platform.Testing;

/// <summary>
/// The gateway's merged OpenAPI document as a contract: a real answer must have a status the operation documents, every
/// header documented as required for that status, a media type it documents, and a body valid against that media type's
/// schema (JSON Schema 2020-12, as OpenAPI 3.1 schemas are; formats checked).
/// </summary>
public sealed class ApiContract(JsonObject document)
{
    private const string SchemasPrefix = "#/components/schemas/";
    private readonly ConcurrentDictionary<string, JsonSchema> schemas = new(StringComparer.Ordinal);
    private readonly JsonObject definitions = Rewrite(document["components"]?["schemas"]?.DeepClone() as JsonObject ?? []);

    public JsonObject Document { get; } = document;

    /// <summary>The violations of one exchange; empty when the answer is what the document says.</summary>
    public async Task<IReadOnlyList<string>> ViolationsAsync(HttpRequestMessage request, HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        var method = request.Method.Method.ToLowerInvariant();
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (template, operation) = FindOperation(method, request.RequestUri!.AbsolutePath);
        var what = $"{request.Method} {request.RequestUri.PathAndQuery} → {status}";
        if (operation is null)
        {
            return [$"{what}: the document has no operation {method.ToUpperInvariant()} for this path"];
        }
        if (operation["responses"]?[status] is not JsonObject documented)
        {
            return [$"{what}: status {status} is not documented for {method.ToUpperInvariant()} {template}"];
        }
        var violations = new List<string>();
        foreach (var (name, header) in documented["headers"]?.AsObject() ?? [])
        {
            var present = response.Headers.NonValidated.Contains(name) || response.Content.Headers.NonValidated.Contains(name);
            if (header?["required"]?.GetValue<bool>() == true && !present)
            {
                violations.Add($"{what}: the documented header {name} is missing");
            }
        }
        var body = await response.Content.ReadAsByteArrayAsync();
        var content = documented["content"] as JsonObject;
        if (content is null || content.Count == 0)
        {
            if (body.Length > 0)
            {
                violations.Add($"{what}: a body of {body.Length} bytes where the document says none");
            }
            return violations;
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var entry = content.FirstOrDefault(c => mediaType is not null && MediaTypeMatches(c.Key, mediaType));
        if (entry.Value is not JsonObject media)
        {
            // A download answers with the file's own type; the document says octet-stream for any bytes.
            if (content.ContainsKey("application/octet-stream") && !IsJson(mediaType))
            {
                return violations;
            }
            violations.Add($"{what}: Content-Type {mediaType ?? "(none)"} is not one of {string.Join(", ", content.Select(c => c.Key))}");
            return violations;
        }
        if (media["schema"] is { } schema && IsJson(mediaType))
        {
            var key = $"{method} {template} {status} {entry.Key}";
            var compiled = schemas.GetOrAdd(key, _ => Compile(schema));
            using var instance = JsonDocument.Parse(body);
            var results = compiled.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            if (!results.IsValid)
            {
                violations.AddRange((results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                    .SelectMany(d => d.Errors!.Select(e => $"{what}: body{d.InstanceLocation}: {e.Key}: {e.Value}"))
                    .DefaultIfEmpty($"{what}: the body does not match the schema"));
            }
        }
        return violations;
    }

    /// <summary>The operation of a concrete path: template segments in braces match any segment; the most literal template wins.</summary>
    public (string? Template, JsonObject? Operation) FindOperation(string method, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return Document["paths"]!.AsObject()
            .Select(p => (Template: p.Key, Segments: p.Key.Split('/', StringSplitOptions.RemoveEmptyEntries), Operation: p.Value?[method] as JsonObject))
            .Where(p => p.Operation is not null && p.Segments.Length == segments.Length
                && p.Segments.Zip(segments).All(s => s.First.StartsWith('{') || string.Equals(s.First, Uri.UnescapeDataString(s.Second), StringComparison.Ordinal)))
            .OrderByDescending(p => p.Segments.Count(s => !s.StartsWith('{')))
            .Select(p => ((string?)p.Template, p.Operation))
            .FirstOrDefault();
    }

    private JsonSchema Compile(JsonNode schema)
    {
        var root = Rewrite(schema.DeepClone()) as JsonObject ?? new JsonObject { ["allOf"] = new JsonArray(Rewrite(schema.DeepClone())) };
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        root["$defs"] = definitions.DeepClone();
        return JsonSchema.FromText(root.ToJsonString(), baseUri: new Uri($"urn:platform-openapi:{Guid.NewGuid():N}"));
    }

    /// <summary>OpenAPI's component references as references into the schema's own <c>$defs</c>.</summary>
    private static T Rewrite<T>(T node)
        where T : JsonNode
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"] is JsonValue reference && reference.GetValue<string>() is { } target && target.StartsWith(SchemasPrefix, StringComparison.Ordinal))
                {
                    obj["$ref"] = "#/$defs/" + target[SchemasPrefix.Length..];
                }
                foreach (var (_, child) in obj.ToList())
                {
                    if (child is not null)
                    {
                        Rewrite(child);
                    }
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        Rewrite(child);
                    }
                }
                break;
        }
        return node;
    }

    private static bool MediaTypeMatches(string documented, string actual) =>
        documented == "*/*" || string.Equals(documented, actual, StringComparison.OrdinalIgnoreCase);

    private static bool IsJson(string? mediaType) =>
        mediaType is not null && (mediaType.EndsWith("/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Checks every answer the client gets against the contract before the test sees it: a test written as a plain client
/// flow is also a contract test of each step. An exchange that breaks the contract fails the request with the reasons.
/// </summary>
public sealed class ContractCheckingHandler(ApiContract contract) : DelegatingHandler(new HttpClientHandler { AllowAutoRedirect = false })
{
    public int Checked { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var violations = await contract.ViolationsAsync(request, response);
        Checked++;
        if (violations.Count > 0)
        {
            response.Dispose();
            throw new ContractViolationException(string.Join("\n", violations));
        }
        return response;
    }
}

public sealed class ContractViolationException(string message) : Exception(message);
