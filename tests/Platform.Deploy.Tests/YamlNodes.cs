using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Platform.Deploy.Tests;

/// <summary>
/// YAML documents as JSON nodes, typed the way Helm (go-yaml) reads them: plain scalars become null, booleans
/// and numbers when they look like one, everything quoted stays a string. That is what a schema then sees.
/// </summary>
public static class YamlNodes
{
    public static IReadOnlyList<JsonNode?> LoadAll(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Select(document => ToJson(document.RootNode)).ToList();
    }

    public static JsonNode? Load(string yaml) => LoadAll(yaml) is [var single] ? single : throw new InvalidDataException("Expected exactly one YAML document.");

    public static JsonNode? LoadFile(string path) => Load(File.ReadAllText(path));

    /// <summary>Helm's merge of a values file over the chart's defaults: maps merge key by key, anything else is replaced.</summary>
    public static JsonNode? MergeValues(JsonNode? defaults, JsonNode? overrides)
    {
        if (defaults is not JsonObject baseObject || overrides is not JsonObject overrideObject)
        {
            return overrides?.DeepClone();
        }
        var merged = (JsonObject)baseObject.DeepClone();
        foreach (var (key, value) in overrideObject)
        {
            merged[key] = merged.TryGetPropertyValue(key, out var existing) ? MergeValues(existing, value) : value?.DeepClone();
        }
        return merged;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(entry =>
            KeyValuePair.Create(((YamlScalarNode)entry.Key).Value ?? "", ToJson(entry.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidDataException($"Unsupported YAML node {node.NodeType} at {node.Start}"),
    };

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            return JsonValue.Create(text);
        }
        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) => JsonValue.Create(integer),
            _ when IsFloat(text) => JsonValue.Create(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)),
            _ => JsonValue.Create(text),
        };
    }

    private static bool IsFloat(string text) =>
        text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' or '.')
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
