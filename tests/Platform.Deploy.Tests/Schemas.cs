using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Platform.Deploy.Tests;

/// <summary>JSON Schema evaluation that answers with every violation, one line each, for assertion messages.</summary>
public static class Schemas
{
    private static readonly ConcurrentDictionary<string, JsonSchema> Built = new();

    /// <summary>A schema file, built once: the library keeps a registry of schemas by base URI.</summary>
    public static JsonSchema FromFile(string path) =>
        Built.GetOrAdd(path, p => JsonSchema.FromText(File.ReadAllText(p), baseUri: new Uri("file://" + p)));

    /// <summary>An embedded schema (e.g. a CRD's openAPIV3Schema), built once under a name of its own.</summary>
    public static JsonSchema FromNode(string name, JsonNode schema) =>
        Built.GetOrAdd(name, n => JsonSchema.FromText(schema.ToJsonString(), baseUri: new Uri("urn:platform-deploy-tests:" + n)));

    /// <summary>The violations, empty when the instance is valid.</summary>
    public static IReadOnlyList<string> Violations(JsonSchema schema, JsonNode? instance)
    {
        using var document = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
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
