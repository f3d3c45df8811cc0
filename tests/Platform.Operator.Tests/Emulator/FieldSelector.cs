using System.Text.Json.Nodes;

namespace Platform.Operator.Tests.Emulator;

/// <summary>
/// Field selectors as the API server takes them on any resource: <c>metadata.name</c> and <c>metadata.namespace</c>
/// with <c>=</c>, <c>==</c> or <c>!=</c>, comma-separated (all must hold). Other fields are refused, as most
/// resources refuse them (the resource-specific ones, such as a Secret's <c>type</c>, are not modelled).
/// </summary>
public static class FieldSelector
{
    private static readonly string[] Fields = ["metadata.name", "metadata.namespace"];

    /// <summary>Null when the API server would take <paramref name="selector"/>, else its 400's message.</summary>
    public static string? Problem(string? selector)
    {
        foreach (var term in Terms(selector))
        {
            if (term is null)
            {
                return $"invalid field selector: {selector}";
            }
            if (!Fields.Contains(term.Field))
            {
                return $"field label not supported: {term.Field}";
            }
        }
        return null;
    }

    public static bool Matches(string? selector, JsonObject resource) =>
        Terms(selector).All(term => term is not null && (Value(resource, term.Field) == term.Operand) != term.Negated);

    /// <summary>
    /// The name the selector requires, as k8s.io/apimachinery's <c>RequiresExactMatch("metadata.name")</c> finds it
    /// (a term <c>metadata.name=X</c> or <c>==X</c>, among any others), else null. The API server's RequestInfo gives
    /// it to the authorizer as the name of a list or watch, so a Role's resourceNames can allow those.
    /// </summary>
    public static string? RequiredName(string? selector) =>
        Terms(selector).FirstOrDefault(term => term is { Negated: false, Field: "metadata.name", Operand.Length: > 0 })?.Operand;

    private static string? Value(JsonObject resource, string field) => field switch
    {
        "metadata.name" => resource["metadata"]?["name"]?.GetValue<string>(),
        "metadata.namespace" => resource["metadata"]?["namespace"]?.GetValue<string>(),
        _ => null,
    };

    /// <summary>Each term, or null for one that is not <c>field op value</c>.</summary>
    private static IEnumerable<Term?> Terms(string? selector)
    {
        foreach (var term in (selector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (at, length, negated) = term.IndexOf("!=", StringComparison.Ordinal) is var ne and >= 0 ? (ne, 2, true)
                : term.IndexOf("==", StringComparison.Ordinal) is var eq and >= 0 ? (eq, 2, false)
                : (term.IndexOf('=', StringComparison.Ordinal), 1, false);
            yield return at <= 0 ? null : new Term(term[..at].Trim(), negated, term[(at + length)..].Trim());
        }
    }

    private sealed record Term(string Field, bool Negated, string Operand);
}
