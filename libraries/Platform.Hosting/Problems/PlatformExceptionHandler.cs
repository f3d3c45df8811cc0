using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Platform.Hosting.Problems;

/// <summary>
/// Turns exceptions into problem details: a client's malformed request (bad JSON, an oversize body,
/// a slow upload) is that client's 4xx; a dependency's outage (an <see cref="IOutageClassifier"/> recognises it: an
/// unreachable database, or one whose disk is full) is a 503 with Retry-After; anything else is a 500 that says nothing
/// about our internals.
/// </summary>
internal sealed partial class PlatformExceptionHandler(
    IProblemDetailsService problemDetails, IEnumerable<IOutageClassifier> outages, ILogger<PlatformExceptionHandler> logger)
    : IExceptionHandler
{
    private const string RetryAfterSeconds = "2";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.RequestAborted.IsCancellationRequested)
        {
            return true; // the client went away; there is nobody to answer.
        }

        var problem = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => InvalidJson(json),
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = ReasonFor(bad.StatusCode),
                Type = ProblemTypes.ForStatus(bad.StatusCode),
                Detail = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is larger than this endpoint accepts." : bad.Message,
            },
            _ when OutageOf(exception) is { } outage => Unavailable(outage),
            _ => null,
        };

        if (problem?.Status == StatusCodes.Status503ServiceUnavailable)
        {
            LogDependencyUnavailable(logger, exception.GetBaseException().Message, httpContext.Request.Method, httpContext.Request.Path);
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
        }
        if (problem is null)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Type = ProblemTypes.InternalError,
                Title = "An unexpected error occurred.",
                Detail = "The error has been logged; quote the traceId when reporting it.",
            };
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails InvalidJson(JsonException json)
    {
        var where = json.Path is null ? "" : $" at {json.Path}";
        var position = json.LineNumber is { } line ? $" (line {line + 1}, byte {json.BytePositionInLine + 1})" : "";
        return new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.InvalidJson,
            Title = "The request body is not valid JSON for this endpoint.",
            Detail = $"The JSON is malformed or a value has the wrong type{where}{position}.",
        };
    }

    private static ProblemDetails Unavailable(Outage outage) => new()
    {
        Status = StatusCodes.Status503ServiceUnavailable,
        Type = ProblemTypes.ServiceUnavailable,
        Title = outage.Title,
        Detail = outage.Cause is null ? $"Try again in {RetryAfterSeconds} seconds." : $"{outage.Cause} Try again in {RetryAfterSeconds} seconds.",
    };

    private Outage? OutageOf(Exception exception)
    {
        foreach (var classifier in outages)
        {
            if (classifier.Classify(exception) is { } outage)
            {
                return outage;
            }
        }
        return null;
    }

    private static string ReasonFor(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason ? reason : "Bad Request";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dependency unavailable for {Method} {Path}: {Reason}")]
    private static partial void LogDependencyUnavailable(ILogger logger, string reason, string method, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
