using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Platform.Tasks.Tasks;

/// <summary>
/// The body of POST and PUT, as the document describes it; <see cref="TaskInput"/> reads it (rejecting any other field)
/// because a merge patch must tell an absent field from a null one. Properties, not a positional record, so only
/// <c>title</c> is required.
/// </summary>
public sealed class TaskWrite
{
    [Required, MinLength(1), MaxLength(TaskInput.MaxTitleLength), Description("Trimmed; 1–200 characters.")]
    public required string Title { get; init; }

    [MaxLength(TaskInput.MaxDescriptionLength), Description("Up to 10,000 characters; default \"\".")]
    public string? Description { get; init; }

    [AllowedValues(TaskStatuses.Todo, TaskStatuses.InProgress, TaskStatuses.Done), Description("todo (default), in_progress or done.")]
    public string? Status { get; init; }

    [Description("An RFC 3339 date-time with an offset, or null; answered as its UTC instant.")]
    public DateTimeOffset? DueAt { get; init; }
}

/// <summary>The body of PATCH, a JSON merge patch: absent fields stay, null removes description or dueAt.</summary>
public sealed class TaskPatch
{
    [MinLength(1), MaxLength(TaskInput.MaxTitleLength), Description("Trimmed; 1–200 characters; not null.")]
    public string? Title { get; init; }

    [MaxLength(TaskInput.MaxDescriptionLength), Description("null resets it to \"\".")]
    public string? Description { get; init; }

    [AllowedValues(TaskStatuses.Todo, TaskStatuses.InProgress, TaskStatuses.Done), Description("todo, in_progress or done; not null.")]
    public string? Status { get; init; }

    [Description("An RFC 3339 date-time with an offset; null removes it.")]
    public DateTimeOffset? DueAt { get; init; }
}
