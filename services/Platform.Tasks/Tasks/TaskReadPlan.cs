using Platform.Data;

namespace Platform.Tasks.Tasks;

/// <summary>
/// How one request reads a user's tasks, decided once before anything is read: the server its queries go to, and the
/// cache generation it may use without asking the database (a remembered one, only when the user has not written
/// within the read-your-writes window). See <see cref="TaskReads"/>.
/// </summary>
public readonly record struct TaskReadPlan(ReadTarget Target, long? KnownGeneration);
