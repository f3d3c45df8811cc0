using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.ServiceDefaults.Problems;

/// <summary>
/// Turns exceptions into problem details: a client's malformed request (bad JSON, an oversize body,
/// a slow upload) is that client's 4xx; an unreachable database, or one whose disk is full, is a 503 with Retry-After;
/// anything else is a 500 that says nothing about our internals.
/// </summary>
internal sealed partial class PlatformExceptionHandler(IProblemDetailsService problemDetails, ILogger<PlatformExceptionHandler> logger)
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
            _ when IsDatabaseUnavailable(exception) => DatabaseUnavailable(),
            _ when IsDatabaseFull(exception) => DatabaseFull(),
            _ => null,
        };

        if (problem?.Status == StatusCodes.Status503ServiceUnavailable)
        {
            LogDatabaseUnavailable(logger, exception.GetBaseException().Message, httpContext.Request.Method, httpContext.Request.Path);
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

    /// <summary>
    /// PostgreSQL unreachable, shutting down or starting up (anywhere in the chain: EF Core wraps it in its own
    /// exceptions): the request may well succeed in a moment, so it is the 503 of an outage, not a 500 of a bug.
    /// </summary>
    private static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow }
                || e is NpgsqlException { IsTransient: true } and not PostgresException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// PostgreSQL out of disk (found by the disk-full drill, Chaos/DiskFullTests): the write is refused, the server
    /// stays up and takes it again once space returns — an outage of the primary's disk, not a bug of the request.
    /// </summary>
    private static bool IsDatabaseFull(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.DiskFull })
            {
                return true;
            }
        }
        return false;
    }

    private static ProblemDetails DatabaseFull() => new()
    {
        Status = StatusCodes.Status503ServiceUnavailable,
        Type = ProblemTypes.ServiceUnavailable,
        Title = "The service's database cannot take writes right now.",
        Detail = $"Its storage is full. Try again in {RetryAfterSeconds} seconds.",
    };

    private static ProblemDetails DatabaseUnavailable() => new()
    {
        Status = StatusCodes.Status503ServiceUnavailable,
        Type = ProblemTypes.ServiceUnavailable,
        Title = "The service cannot reach its database right now.",
        Detail = $"Try again in {RetryAfterSeconds} seconds.",
    };

    private static string ReasonFor(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason ? reason : "Bad Request";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unavailable for {Method} {Path}: {Reason}")]
    private static partial void LogDatabaseUnavailable(ILogger logger, string reason, string method, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
