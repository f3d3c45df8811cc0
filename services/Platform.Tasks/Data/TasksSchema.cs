using Platform.Data;

namespace Platform.Tasks.Data;

/// <summary>
/// The tasks schema: numbered SQL scripts in <c>Data/Schema</c> (the service reads and writes with Npgsql, choosing
/// primary or replica per query, so there is no EF model).
/// </summary>
public static class TasksSchema
{
    public static SchemaComponent Component { get; } = SchemaComponent.FromResources("tasks", typeof(TasksSchema).Assembly);
}
