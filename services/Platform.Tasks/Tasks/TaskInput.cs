using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Platform.Tasks.Tasks;

/// <summary>A field a merge patch may set or leave alone.</summary>
public readonly record struct Change<T>(bool IsSet, T Value)
{
    public T Or(T current) => IsSet ? Value : current;
}

/// <summary>
/// What a body says about a task's fields. POST and PUT apply it to a new task's defaults (PUT replaces the
/// whole task: an absent optional field takes its default), PATCH to the stored task (RFC 7396: absent means
/// unchanged, null removes). Only description and dueAt can be removed; null for title or status is an error.
/// Fields other than title, description, status and dueAt — the server's own (id, version, timestamps)
/// included — are rejected, so a misspelt field never silently does nothing.
/// </summary>
public sealed partial record TaskInput(Change<string> Title, Change<string> Description, Change<string> Status, Change<DateTimeOffset?> DueAt)
{
    public const int MaxTitleLength = 200;

    /// <summary>PostgreSQL's text cannot hold U+0000: refused as input rather than failing at the insert.</summary>
    private const string NulMessage = "Text may not contain the NUL character (U+0000).";
    public const int MaxDescriptionLength = 10_000;

    public static readonly TaskFields Defaults = new("", "", TaskStatuses.Todo, null);

    public TaskFields ApplyTo(TaskFields current) =>
        new(Title.Or(current.Title), Description.Or(current.Description), Status.Or(current.Status), DueAt.Or(current.DueAt));

    /// <summary>Reads a body; on any problem returns null and fills <paramref name="errors"/> per field.</summary>
    public static TaskInput? Read(JsonElement body, bool titleRequired, Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors[""] = ["The body must be a JSON object."];
            return null;
        }
        Change<string> title = default, description = default, status = default;
        Change<DateTimeOffset?> dueAt = default;
        foreach (var property in body.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "title":
                    title = ReadTitle(value, errors);
                    break;
                case "description":
                    description = ReadDescription(value, errors);
                    break;
                case "status":
                    status = ReadStatus(value, errors);
                    break;
                case "dueAt":
                    dueAt = ReadDueAt(value, errors);
                    break;
                default:
                    errors[property.Name] = ["Unknown field: a task has title, description, status and dueAt."];
                    break;
            }
        }
        if (titleRequired && !title.IsSet && !errors.ContainsKey("title"))
        {
            errors["title"] = ["A title is required."];
        }
        return errors.Count == 0 ? new TaskInput(title, description, status, dueAt) : null;
    }

    private static Change<string> ReadTitle(JsonElement value, Dictionary<string, string[]> errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors["title"] = ["The title must be a string."];
            return default;
        }
        var title = value.GetString()!.Trim();
        if (title.Contains('\0', StringComparison.Ordinal))
        {
            errors["title"] = [NulMessage];
            return default;
        }
        if (title.Length == 0 || Length(title) > MaxTitleLength)
        {
            errors["title"] = [$"The title must have 1 to {MaxTitleLength} characters."];
            return default;
        }
        return new(true, title);
    }

    private static Change<string> ReadDescription(JsonElement value, Dictionary<string, string[]> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return new(true, "");
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            errors["description"] = ["The description must be a string or null."];
            return default;
        }
        var description = value.GetString()!;
        if (description.Contains('\0', StringComparison.Ordinal))
        {
            errors["description"] = [NulMessage];
            return default;
        }
        if (Length(description) > MaxDescriptionLength)
        {
            errors["description"] = [$"The description must have at most {MaxDescriptionLength} characters."];
            return default;
        }
        return new(true, description);
    }

    private static Change<string> ReadStatus(JsonElement value, Dictionary<string, string[]> errors)
    {
        var status = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (!TaskStatuses.IsValid(status))
        {
            errors["status"] = ["The status must be one of todo, in_progress, done."];
            return default;
        }
        return new(true, status!);
    }

    private static Change<DateTimeOffset?> ReadDueAt(JsonElement value, Dictionary<string, string[]> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return new(true, null);
        }
        if (value.ValueKind == JsonValueKind.String && TryParseRfc3339(value.GetString()!, out var dueAt))
        {
            return new(true, dueAt.ToUniversalTime()); // timestamptz keeps the instant, not the offset
        }
        errors["dueAt"] = ["The due date must be an RFC 3339 date-time with an offset (e.g. 2026-12-01T17:00:00Z) or null."];
        return default;
    }

    public static bool TryParseRfc3339(string text, out DateTimeOffset value)
    {
        value = default;
        return Rfc3339().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out value)
            && value.Year is >= 1 and <= 9999;
    }

    /// <summary>Characters as people count them (Unicode scalar values), not UTF-16 code units.</summary>
    private static int Length(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }
        return count;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();
}
