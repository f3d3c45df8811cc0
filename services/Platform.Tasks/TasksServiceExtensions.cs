using Platform.Contracts.Events;
using Platform.Data;
using Platform.Messaging;
using Platform.Tasks.Data;
using Platform.Tasks.Events;
using Platform.Tasks.Tasks;

namespace Platform.Tasks;

public static class TasksServiceExtensions
{
    /// <summary>Options (validated at start), the schema, the read and write paths, the cache and generation memory, and the <c>user.deleted</c> consumer.</summary>
    public static WebApplicationBuilder AddTasksService(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TasksOptions>().BindConfiguration(TasksOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSchema(TasksSchema.Component);
        builder.Services.AddSingleton<TaskCache>();
        builder.Services.AddSingleton<GenerationMemo>();
        builder.Services.AddSingleton<TaskReads>();
        builder.Services.AddSingleton<TaskWrites>();
        var queue = builder.Configuration[$"{TasksOptions.Section}:{nameof(TasksOptions.EventQueue)}"] is { Length: > 0 } configured ? configured : new TasksOptions().EventQueue;
        builder.AddPlatformEventConsumer<UserDeletedHandler>(queue, [EventTypes.UserDeleted]);
        return builder;
    }
}
