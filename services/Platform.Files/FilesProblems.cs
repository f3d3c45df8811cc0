using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Platform.Hosting.Problems;

namespace Platform.Files;

/// <summary>Problem answers of the files API, each with its stable type.</summary>
public static class FilesProblems
{
    public const string QuotaExceeded = ProblemTypes.BaseUri + "quota-exceeded";

    public static ProblemHttpResult FileTooLarge(long maxFileBytes) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, type: ProblemTypes.PayloadTooLarge,
            title: "The file is larger than this service accepts.", detail: $"A file may have at most {maxFileBytes} bytes.");

    public static ProblemHttpResult QuotaFull(long quotaBytes) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, type: QuotaExceeded,
            title: "Storing this file would exceed your storage quota.", detail: $"All of a user's files together may have at most {quotaBytes} bytes.");

    public static ProblemHttpResult NotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "No such file.");

    /// <summary>With <c>Content-Range: bytes */size</c>, as RFC 9110 §15.5.17 asks of a 416.</summary>
    public static ProblemHttpResult RangeNotSatisfiable(HttpContext http, long size)
    {
        http.Response.Headers.ContentRange = $"bytes */{size}";
        return TypedResults.Problem(statusCode: StatusCodes.Status416RangeNotSatisfiable, type: ProblemTypes.RangeNotSatisfiable,
            title: "The range starts past the end of the file.", detail: $"The file has {size} bytes.");
    }

    /// <summary>The file result's bare 412, said as what it means: the file is not the one the client's condition names.</summary>
    public static ProblemHttpResult PreconditionFailed(EntityTagHeaderValue? etag, DateTimeOffset? lastModified) =>
        TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, type: ProblemTypes.PreconditionFailed,
            title: "The file is not the version your If-Match or If-Unmodified-Since names.",
            detail: $"Its ETag is {etag} and its Last-Modified {lastModified:R}, as this answer's headers say too: ask again with those, or without the condition.");

    public static ProblemHttpResult AccountGone() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, type: ProblemTypes.NotFound, title: "The account no longer exists.");

    /// <summary>Every upload slot stayed taken (Storage.UploadSlots); the client may send the file again after Retry-After.</summary>
    public static ProblemHttpResult UploadsBusy(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, type: ProblemTypes.Overloaded,
            title: "Too many uploads at once; send the file again in a moment.");
    }

    /// <summary>Every download slot stayed taken (Storage.DownloadSlots); the client may ask again after Retry-After.</summary>
    public static ProblemHttpResult DownloadsBusy(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, type: ProblemTypes.Overloaded,
            title: "Too many downloads at once; ask for the file again in a moment.");
    }

    /// <summary>The user's own downloads hold their share of the slots (Storage.DownloadSlots); this one may follow when one of them ends.</summary>
    public static ProblemHttpResult TooManyDownloads(HttpContext http, int limit)
    {
        http.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, type: ProblemTypes.TooManyRequests,
            title: "You already have as many downloads running as one user may; ask for this file when one of them has finished.",
            detail: $"A user may have {limit} downloads being sent or waiting at once on each instance of the service.");
    }

    /// <summary>The user's own uploads hold their share of the slots (Storage.UploadSlots); this one may follow when one of them ends.</summary>
    public static ProblemHttpResult TooManyUploads(HttpContext http, int limit)
    {
        http.Response.Headers.RetryAfter = "5";
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, type: ProblemTypes.TooManyRequests,
            title: "You already have as many uploads running as one user may; send this file when one of them has finished.",
            detail: $"A user may have {limit} uploads running or waiting at once on each instance of the service.");
    }

    public static ValidationProblem Validation(string field, string problem) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [problem] }, title: "The request is not valid.", type: ProblemTypes.Validation);
}
