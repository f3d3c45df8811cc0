using Microsoft.Extensions.Primitives;

namespace Platform.Tasks.Tasks;

/// <summary>
/// The <c>If-Match</c> precondition (RFC 9110 §13.1.1) with strong comparison: <c>*</c> or a list of ETags;
/// a weak or malformed one never matches. No header means no precondition; a header with an empty value is a
/// precondition nothing matches (412), not an absent one: a client that sent it meant a condition.
/// </summary>
public sealed class IfMatch
{
    private readonly string[] tags;

    private IfMatch(string[] tags) => this.tags = tags;

    public static IfMatch? From(StringValues header)
    {
        if (header.Count == 0)
        {
            return null;
        }
        return new IfMatch([.. header.SelectMany(value => (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))]);
    }

    public bool Matches(TaskItem task) => tags.Any(tag => tag == "*" || tag == task.ETag);
}
