using System.Text.Json.Nodes;

namespace Platform.Operator.Tests.Emulator;

/// <summary>RFC 7386 merge patch, and the leaf paths server-side apply tracks per field manager.</summary>
public static class JsonMerge
{
    /// <summary>Objects merge recursively; null removes; anything else (arrays included) replaces.</summary>
    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }
        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : [];
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = MergePatch(result[key], value);
            }
        }
        return result;
    }

    /// <summary>Paths of the leaves of an object (arrays count as leaves): what one apply configuration sets.</summary>
    public static HashSet<string> LeafPaths(JsonNode? node, string prefix = "")
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        if (node is JsonObject obj && obj.Count > 0)
        {
            foreach (var (key, value) in obj)
            {
                paths.UnionWith(LeafPaths(value, prefix + "/" + key));
            }
        }
        else
        {
            paths.Add(prefix);
        }
        return paths;
    }

    public static void RemovePath(JsonObject root, string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        JsonObject? current = root;
        for (var i = 0; i < parts.Length - 1 && current is not null; i++)
        {
            current = current[parts[i]] as JsonObject;
        }
        current?.Remove(parts[^1]);
    }
}
