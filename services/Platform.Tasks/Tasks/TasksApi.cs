using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.OpenApi;
using Platform.Api.Paging;
using Platform.Authentication;
using Platform.Hosting.Problems;

namespace Platform.Tasks.Tasks;

/// <summary>
/// <c>/api/tasks</c>: the caller's own tasks only. Another user's task, like a missing one or a malformed id,
/// is 404. GET answers a strong ETag (the version); PUT, PATCH and DELETE honour If-Match (412 when stale) and
/// proceed without one.
/// </summary>
public static class TasksApi
{

    public static RouteGroupBuilder MapTasksApi(this RouteGroupBuilder tasks)
    {
        tasks.RequireAuthorization();
        tasks.MapGet("/", ListAsync).WithName("ListTasks").WithSummary("The caller's tasks, newest first, a page at a time")
            .WithDescription("status filters; cursor is the nextCursor of the previous page; limit 1–200 (default 50).");
        tasks.MapPost("/", CreateAsync).WithName("CreateTask").WithSummary("Create a task")
            .WithRequestExample(new { title = "Write the release notes", description = "", status = "todo", dueAt = "2026-12-24T17:00:00+01:00" })
            .WithRequestBody<RouteHandlerBuilder, TaskWrite>("application/json")
            .WithResponseHeader(StatusCodes.Status201Created, "Location", "/api/tasks/{id}")
            .WithResponseHeader(StatusCodes.Status201Created, "ETag", EtagDescription)
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status404NotFound, "The account no longer exists: the token was issued before it was deleted.", ProblemTypes.NotFound);
        tasks.MapGet("/{id}", GetAsync).WithName("GetTask").WithSummary("One task")
            .Produces<TaskItem>()
            .WithResponseHeader(StatusCodes.Status200OK, "ETag", EtagDescription)
            .ProducesProblems(StatusCodes.Status404NotFound, NotFoundDescription, ProblemTypes.NotFound);
        tasks.MapPut("/{id}", ReplaceAsync).WithName("ReplaceTask").WithSummary("Replace every field of a task")
            .WithDescription("Absent optional fields take their defaults.")
            .WithRequestExample(new { title = "Write the release notes", status = "in_progress" })
            .WithRequestBody<RouteHandlerBuilder, TaskWrite>("application/json")
            .Conditional();
        tasks.MapPatch("/{id}", PatchAsync).WithName("PatchTask").WithSummary("Change some fields of a task (JSON merge patch)")
            .WithRequestExample(new { status = "done", dueAt = (string?)null })
            .WithRequestBody<RouteHandlerBuilder, TaskPatch>("application/merge-patch+json", "application/json")
            .Conditional();
        tasks.MapDelete("/{id}", DeleteAsync).WithName("DeleteTask").WithSummary("Delete a task")
            .Produces(StatusCodes.Status204NoContent)
            .WithRequestHeader("If-Match", IfMatchDescription)
            .ProducesProblems(StatusCodes.Status404NotFound, NotFoundDescription, ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status412PreconditionFailed, PreconditionDescription, ProblemTypes.PreconditionFailed);
        return tasks;
    }

    private const string EtagDescription = "The task's version as a strong ETag, e.g. \"3\"; send it in If-Match to write only that version.";
    private const string IfMatchDescription = "* or strong ETags of GET answers: the write happens only if the task is still at one of them (a weak ETag never matches). Without it the write is unconditional.";
    private const string NotFoundDescription = "No such task of the caller's (missing, another user's, or not a UUID).";
    private const string PreconditionDescription = "If-Match does not match the task's current version: GET it again.";

    /// <summary>What PUT and PATCH share: If-Match, the new ETag, and their problem answers.</summary>
    private static RouteHandlerBuilder Conditional(this RouteHandlerBuilder write) =>
        write
            .WithRequestHeader("If-Match", IfMatchDescription)
            .WithResponseHeader(StatusCodes.Status200OK, "ETag", EtagDescription)
            .ProducesJsonBodyProblems()
            .ProducesProblems(StatusCodes.Status404NotFound, NotFoundDescription, ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status412PreconditionFailed, PreconditionDescription, ProblemTypes.PreconditionFailed);

    private static async Task<Results<Ok<TaskPage>, ValidationProblem>> ListAsync(
        string? status, string? cursor, string? limit, ClaimsPrincipal user, TaskReads reads, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (status is not null && !TaskStatuses.IsValid(status))
        {
            errors["status"] = ["The status must be one of todo, in_progress, done."];
        }
        var page = PageQuery.Parse(cursor, limit, errors);
        if (errors.Count > 0)
        {
            return TasksProblems.Validation(errors);
        }
        return TypedResults.Ok(await reads.ListAsync(user.UserId(), status, page.After, page.Limit, cancellationToken));
    }

    private static async Task<Results<Created<TaskItem>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpContext http, ClaimsPrincipal user, TaskWrites writes, CancellationToken cancellationToken)
    {
        var (input, invalid, refused) = await ReadInputAsync(http.Request, titleRequired: true, cancellationToken);
        if (input is null)
        {
            return invalid is not null ? invalid : refused!;
        }
        if (await writes.CreateAsync(user.UserId(), input.ApplyTo(TaskInput.Defaults), cancellationToken) is not { } task)
        {
            return TasksProblems.UserDeleted();
        }
        http.Response.Headers.ETag = task.ETag;
        return TypedResults.Created($"/api/tasks/{task.Id}", task);
    }

    private static async Task<Results<TaskJsonResult, ProblemHttpResult>> GetAsync(
        string id, HttpContext http, ClaimsPrincipal user, TaskReads reads, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var taskId) || await reads.GetAsync(user.UserId(), taskId, cancellationToken) is not { } task)
        {
            return TasksProblems.NotFound();
        }
        http.Response.Headers.ETag = task.ETag;
        return new TaskJsonResult(task);
    }

    private static async Task<Results<Ok<TaskItem>, ValidationProblem, ProblemHttpResult>> ReplaceAsync(
        string id, HttpContext http, ClaimsPrincipal user, TaskWrites writes, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var taskId))
        {
            return TasksProblems.NotFound();
        }
        var (input, invalid, refused) = await ReadInputAsync(http.Request, titleRequired: true, cancellationToken);
        if (input is null)
        {
            return invalid is not null ? invalid : refused!;
        }
        var replacement = input.ApplyTo(TaskInput.Defaults);
        return Answer(http, await writes.UpdateAsync(user.UserId(), taskId, IfMatch.From(http.Request.Headers.IfMatch), _ => replacement, cancellationToken));
    }

    private static async Task<Results<Ok<TaskItem>, ValidationProblem, ProblemHttpResult>> PatchAsync(
        string id, HttpContext http, ClaimsPrincipal user, TaskWrites writes, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var taskId))
        {
            return TasksProblems.NotFound();
        }
        var (patch, invalid, refused) = await ReadInputAsync(http.Request, titleRequired: false, cancellationToken);
        if (patch is null)
        {
            return invalid is not null ? invalid : refused!;
        }
        return Answer(http, await writes.UpdateAsync(user.UserId(), taskId, IfMatch.From(http.Request.Headers.IfMatch), patch.ApplyTo, cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, HttpContext http, ClaimsPrincipal user, TaskWrites writes, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var taskId))
        {
            return TasksProblems.NotFound();
        }
        return await writes.DeleteAsync(user.UserId(), taskId, IfMatch.From(http.Request.Headers.IfMatch), cancellationToken) switch
        {
            WriteOutcome.Done => TypedResults.NoContent(),
            WriteOutcome.PreconditionFailed => TasksProblems.PreconditionFailed(),
            WriteOutcome.UserDeleted => TasksProblems.UserDeleted(),
            _ => TasksProblems.NotFound(),
        };
    }

    private static Results<Ok<TaskItem>, ValidationProblem, ProblemHttpResult> Answer(HttpContext http, (WriteOutcome Outcome, TaskItem? Task) result)
    {
        switch (result.Outcome)
        {
            case WriteOutcome.Done:
                http.Response.Headers.ETag = result.Task!.ETag;
                return TypedResults.Ok(result.Task);
            case WriteOutcome.PreconditionFailed:
                return TasksProblems.PreconditionFailed();
            case WriteOutcome.UserDeleted:
                return TasksProblems.UserDeleted();
            default:
                return TasksProblems.NotFound();
        }
    }

    /// <summary>
    /// The body as <see cref="TaskInput"/>: JSON (PATCH: a merge patch, <c>application/merge-patch+json</c> or
    /// <c>application/json</c>); malformed JSON is <c>invalid-json</c>, bad fields are <c>validation</c> per field.
    /// </summary>
    private static async Task<(TaskInput? Input, ValidationProblem? Invalid, ProblemHttpResult? Refused)> ReadInputAsync(HttpRequest request, bool titleRequired, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return (null, null, TasksProblems.UnsupportedMediaType(titleRequired ? "application/json" : "application/merge-patch+json or application/json"));
        }
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (JsonException)
        {
            return (null, null, TasksProblems.InvalidJson());
        }
        using (document)
        {
            var errors = new Dictionary<string, string[]>();
            TaskInput? input;
            try
            {
                input = TaskInput.Read(document.RootElement, titleRequired, errors);
            }
            catch (InvalidOperationException)
            {
                // JsonDocument checks only the structure: a string that is not UTF-8, or escapes a lone surrogate,
                // throws when it is read. That is the client's malformed JSON, not our failure.
                return (null, null, TasksProblems.InvalidJson());
            }
            return input is null ? (null, TasksProblems.Validation(errors), null) : (input, null, null);
        }
    }
}
