using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Platform.Tasks.Tasks;

/// <summary>A task as stored and as answered; <see cref="Version"/> is the optimistic-concurrency token (the ETag).</summary>
public sealed record TaskItem(
    Guid Id,
    string Title,
    string Description,
    [property: AllowedValues(TaskStatuses.Todo, TaskStatuses.InProgress, TaskStatuses.Done)] string Status,
    DateTimeOffset? DueAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int Version)
{
    [JsonIgnore]
    public string ETag => $"\"{Version}\"";
}

/// <summary>A page of a collection: <c>{"items": [...], "nextCursor": "…" | null}</c>.</summary>
public sealed record TaskPage(IReadOnlyList<TaskItem> Items, string? NextCursor);

/// <summary>The fields a client sets; everything else belongs to the server.</summary>
public sealed record TaskFields(string Title, string Description, string Status, DateTimeOffset? DueAt);

public static class TaskStatuses
{
    public const string Todo = "todo";
    public const string InProgress = "in_progress";
    public const string Done = "done";

    public static bool IsValid(string? status) => status is Todo or InProgress or Done;
}
