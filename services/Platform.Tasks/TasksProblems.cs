using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Hosting.Problems;

namespace Platform.Tasks;

/// <summary>Problem answers of the tasks API, each with its stable type.</summary>
public static class TasksProblems
{
    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is not valid.", type: ProblemTypes.Validation);

    public static ProblemHttpResult NotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "There is no such task.");

    /// <summary>As files answers an upload of a deleted account: the token outlived the account it was issued to.</summary>
    public static ProblemHttpResult UserDeleted() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "The account no longer exists.");

    public static ProblemHttpResult PreconditionFailed() =>
        TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, type: ProblemTypes.PreconditionFailed,
            title: "The task has changed since you read it.", detail: "GET it again and retry with its current ETag in If-Match.");

    public static ProblemHttpResult InvalidJson() =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, type: ProblemTypes.InvalidJson,
            title: "The request body is not valid JSON.");

    public static ProblemHttpResult UnsupportedMediaType(string accepted) =>
        TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, type: ProblemTypes.UnsupportedMediaType,
            title: "The body must be JSON.", detail: $"Send Content-Type: {accepted}.");
}
