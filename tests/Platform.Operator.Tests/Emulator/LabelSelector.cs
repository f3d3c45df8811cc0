using System.Text.Json.Nodes;

namespace Platform.Operator.Tests.Emulator;

/// <summary>Equality-based label selectors: <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>, comma-separated (all must hold).</summary>
public static class LabelSelector
{
    public static bool Matches(string? selector, JsonObject resource)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return true;
        }
        var labels = resource["metadata"]?["labels"] as JsonObject;
        string? Label(string key) => labels?[key]?.GetValue<string>();
        foreach (var term in selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var holds = term switch
            {
                _ when term.Contains("!=", StringComparison.Ordinal) => Label(term[..term.IndexOf("!=", StringComparison.Ordinal)]) != term[(term.IndexOf("!=", StringComparison.Ordinal) + 2)..],
                _ when term.Contains("==", StringComparison.Ordinal) => Label(term[..term.IndexOf("==", StringComparison.Ordinal)]) == term[(term.IndexOf("==", StringComparison.Ordinal) + 2)..],
                _ when term.Contains('=', StringComparison.Ordinal) => Label(term[..term.IndexOf('=', StringComparison.Ordinal)]) == term[(term.IndexOf('=', StringComparison.Ordinal) + 1)..],
                _ when term.StartsWith('!') => Label(term[1..]) is null,
                _ => Label(term) is not null,
            };
            if (!holds)
            {
                return false;
            }
        }
        return true;
    }
}
