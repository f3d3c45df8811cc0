using System.ComponentModel.DataAnnotations;

namespace Platform.Tasks;

/// <summary>The <c>Tasks</c> configuration section.</summary>
public sealed class TasksOptions
{
    public const string Section = "Tasks";

    /// <summary>How long a cached answer lives in Redis; correctness never depends on it (generations do that).</summary>
    [Range(1, 86_400)]
    public int CacheTtlSeconds { get; set; } = 300;

    /// <summary>
    /// How long this process may reuse a user's cache generation without reading it again (<see cref="Tasks.GenerationMemo"/>);
    /// never longer than ReadRouting's read-your-writes window minus the replica's lag bound and sampling period
    /// (1 s with their defaults). 0 turns it off: every read looks the generation up in PostgreSQL.
    /// </summary>
    [Range(0, 60)]
    public double GenerationMemoSeconds { get; set; } = 1;

    /// <summary>
    /// The queue this service consumes <c>user.deleted</c> from. It also names the consumer in
    /// <c>processed_events</c>, so it stays stable in production; tests give each instance its own.
    /// </summary>
    [Required]
    public string EventQueue { get; set; } = "tasks.events";
}
