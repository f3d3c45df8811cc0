using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Platform.Deploy.Tests;

/// <summary>JSON Schema evaluation that answers with every violation, one line each, for assertion messages.</summary>
public static class Schemas
{
    private static readonly ConcurrentDictionary<string, JsonSchema> Built = new();

    /// <summary>A schema file, built once: the library keeps a registry of schemas by base URI.</summary>
    public static JsonSchema FromFile(string path) =>
        Built.GetOrAdd(path, p => JsonSchema.FromText(File.ReadAllText(p), baseUri: new Uri("file://" + p)));

    /// <summary>An embedded schema, built once under a name of its own.</summary>
    public static JsonSchema FromNode(string name, JsonNode schema) =>
        Built.GetOrAdd(name, n => JsonSchema.FromText(schema.ToJsonString(), baseUri: new Uri("urn:platform-deploy-tests:" + n)));

    /// <summary>
    /// A CRD's structural schema (OpenAPI v3) read as JSON Schema: fields it does not name refused, the
    /// <c>x-kubernetes-*</c> annotations dropped and
    /// OpenAPI's boolean <c>exclusiveMinimum</c> turned into the number form. Its "duration" format is a Go duration,
    /// which <see cref="Violations"/> checks as such.
    /// </summary>
    public static JsonSchema FromCrd(string name, JsonNode openApiSchema)
    {
        var schema = openApiSchema.DeepClone();
        ToJsonSchema(schema);
        // A name of its own: the raw schema under the same name would be refused for its x-kubernetes-* keywords.
        return FromNode("crd/" + name, schema);
    }

    private static readonly Regex GoDuration = new(@"^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$", RegexOptions.CultureInvariant);

    private static readonly Format GoDurationFormat = new PredicateFormat("duration",
        element => element.ValueKind != JsonValueKind.String || GoDuration.IsMatch(element.GetString()!));

    private static void ToJsonSchema(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject schema:
                // The API server prunes, and with strict field validation (kubectl's default) refuses, fields a
                // structural schema does not name, unless it preserves unknown fields.
                if (schema["properties"] is JsonObject && schema["additionalProperties"] is null
                    && schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() != true)
                {
                    schema["additionalProperties"] = false;
                }
                foreach (var key in schema.Select(p => p.Key).Where(k => k.StartsWith("x-kubernetes-", StringComparison.Ordinal)).ToList())
                {
                    schema.Remove(key);
                }
                if (schema["exclusiveMinimum"] is JsonValue exclusive && exclusive.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                {
                    schema.Remove("exclusiveMinimum");
                    if (exclusive.GetValue<bool>() && schema["minimum"] is { } minimum)
                    {
                        schema["exclusiveMinimum"] = minimum.DeepClone();
                        schema.Remove("minimum");
                    }
                }
                foreach (var child in schema.Select(p => p.Value).ToList())
                {
                    ToJsonSchema(child);
                }
                break;
            case JsonArray items:
                foreach (var item in items)
                {
                    ToJsonSchema(item);
                }
                break;
        }
    }

    /// <summary>The violations, empty when the instance is valid.</summary>
    public static IReadOnlyList<string> Violations(JsonSchema schema, JsonNode? instance)
    {
        using var document = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List };
        options.FormatRegistry.Register(GoDurationFormat);
        var results = schema.Evaluate(document.RootElement, options);
        if (results.IsValid)
        {
            return [];
        }
        return [.. (results.Details ?? [])
            .Where(detail => detail.Errors is { Count: > 0 })
            .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation}: {error.Key}: {error.Value}"))
            .DefaultIfEmpty("invalid (no detail)")];
    }
}
