using System.Diagnostics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Platform.Api.OpenApi;
using Platform.Authentication;
using Platform.Files.Storage;
using Platform.Hosting.Problems;

namespace Platform.Files.Api;

/// <summary>
/// <c>POST /api/files</c>: a raw body (its Content-Type, <c>?name=</c>) or a multipart form whose <c>file</c>
/// part is streamed straight from the request into storage — never buffered as a form file.
/// </summary>
public static class UploadsApi
{
    /// <summary>What a multipart body may carry beyond the file itself: boundaries, part headers, small fields.</summary>
    private const long MultipartAllowance = 1024 * 1024;

    private const int MaxBoundaryLength = 70; // RFC 2046

    public static RouteGroupBuilder MapUploadsApi(this RouteGroupBuilder files)
    {
        files.MapPost("/", UploadAsync).WithName("UploadFile").WithSummary("Upload a file")
            .WithDescription("The raw body (its Content-Type is stored, ?name= names it) or multipart/form-data with the file in the part named file. "
                + "Streamed into storage: an upload too large, over quota or cut off leaves nothing behind.")
            .WithRequestBody<RouteHandlerBuilder, UploadForm>("multipart/form-data")
            .WithRequestBody<RouteHandlerBuilder, Stream>("application/octet-stream")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new Microsoft.OpenApi.OpenApiParameter
                {
                    Name = "name",
                    In = Microsoft.OpenApi.ParameterLocation.Query,
                    Description = "The file's name for a raw body (its last path segment, sanitised; default \"file\").",
                    Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String },
                });
                return Task.CompletedTask;
            })
            .WithResponseHeader(StatusCodes.Status201Created, "Location", "/api/files/{id}")
            .ProducesProblems(StatusCodes.Status400BadRequest, "A multipart body without a file part, or malformed.", ProblemTypes.Validation)
            .ProducesProblems(StatusCodes.Status404NotFound, "The account was deleted while uploading.", ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status413PayloadTooLarge, "Over the per-file maximum, or over the user's quota.",
                ProblemTypes.PayloadTooLarge, FilesProblems.QuotaExceeded)
            .WithResponseHeader(StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds until the file may be sent again.")
            .ProducesProblems(StatusCodes.Status429TooManyRequests, "The user already has as many uploads running on this instance as one user may.", ProblemTypes.TooManyRequests)
            .WithResponseHeader(StatusCodes.Status503ServiceUnavailable, "Retry-After", "Seconds until the file may be sent again.")
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable, "This instance already stores as many uploads as it may at once.", ProblemTypes.Overloaded);
        return files;
    }

    /// <summary>The multipart form of an upload, as the document describes it; the part is streamed, never bound.</summary>
    public sealed record UploadForm(IFormFile File);

    private static async Task<Results<Created<FileView>, ProblemHttpResult, ValidationProblem>> UploadAsync(
        HttpContext http, ClaimsPrincipal principal, FileUploader uploader, IOptions<FilesOptions> options, FilesMetrics metrics, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var limits = options.Value;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = limits.MaxFileBytes > long.MaxValue - MultipartAllowance ? null : limits.MaxFileBytes + MultipartAllowance;
        }
        var owner = principal.UserId();
        UploadOutcome? outcome;
        ValidationProblem? invalid;
        try
        {
            (outcome, invalid) = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var requestType)
                    && requestType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
                ? await FromMultipartAsync(http.Request, requestType, owner, uploader, cancellationToken)
                : (await FromRawBodyAsync(http.Request, owner, uploader, limits, cancellationToken), null);
        }
        catch (Exception e)
        {
            // Answered by the exception handler (or nobody, the client gone); counted here so the uploads panel shows them.
            var result = http.RequestAborted.IsCancellationRequested ? "abandoned" : e is BadHttpRequestException ? "invalid" : "failed";
            metrics.Upload(result, Stopwatch.GetElapsedTime(started), 0);
            throw;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        switch (outcome)
        {
            case UploadOutcome.Stored stored:
                metrics.Upload("stored", elapsed, stored.File.Size);
                return TypedResults.Created($"/api/files/{stored.File.Id}", FileView.Of(stored.File));
            case UploadOutcome.TooLarge:
                metrics.Upload("too_large", elapsed, 0);
                return FilesProblems.FileTooLarge(limits.MaxFileBytes);
            case UploadOutcome.OverQuota:
                metrics.Upload("quota_exceeded", elapsed, 0);
                return FilesProblems.QuotaFull(limits.QuotaBytesPerUser);
            case UploadOutcome.OwnerDeleted:
                metrics.Upload("owner_deleted", elapsed, 0);
                return FilesProblems.AccountGone();
            case UploadOutcome.Busy:
                metrics.Upload("busy", elapsed, 0);
                return FilesProblems.UploadsBusy(http);
            case UploadOutcome.UserAtLimit atLimit:
                metrics.Upload("user_limit", elapsed, 0);
                return FilesProblems.TooManyUploads(http, atLimit.Limit);
            default:
                metrics.Upload("invalid", elapsed, 0);
                return invalid!;
        }
    }

    private static Task<UploadOutcome> FromRawBodyAsync(HttpRequest request, Guid owner, FileUploader uploader, FilesOptions limits, CancellationToken cancellationToken) =>
        request.ContentLength > limits.MaxFileBytes
            ? Task.FromResult<UploadOutcome>(new UploadOutcome.TooLarge())
            : uploader.StoreAsync(owner, FileNames.Sanitize(request.Query["name"].FirstOrDefault()), MediaTypes.Normalize(request.ContentType), request.Body,
                request.ContentLength, cancellationToken);

    /// <summary>
    /// The least the file part of a multipart body can have: its Content-Length less <see cref="MultipartAllowance"/>,
    /// the room the body limit already gives boundaries, part headers and small fields beside the file. A form that
    /// carries more than that beside its file is refused near the per-file maximum already; near the quota it is now
    /// refused too, rather than read. Below the allowance nothing is known, and only the stream's own bound applies.
    /// </summary>
    private static long? LeastFileSize(HttpRequest request) =>
        request.ContentLength is { } length && length > MultipartAllowance ? length - MultipartAllowance : null;

    /// <summary>Parts before the <c>file</c> part are skipped unread; parts after it are never read.</summary>
    private static async Task<(UploadOutcome?, ValidationProblem?)> FromMultipartAsync(
        HttpRequest request, MediaTypeHeaderValue requestType, Guid owner, FileUploader uploader, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(requestType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > MaxBoundaryLength)
        {
            return (null, FilesProblems.Validation("file", "A multipart/form-data body needs a boundary of at most 70 characters."));
        }
        try
        {
            var reader = new MultipartReader(boundary, request.Body);
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    && disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
                    && HeaderUtilities.RemoveQuotes(disposition.Name).Equals("file", StringComparison.Ordinal))
                {
                    var name = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    return (await uploader.StoreAsync(owner, FileNames.Sanitize(name), MediaTypes.Normalize(section.ContentType), section.Body,
                        LeastFileSize(request), cancellationToken), null);
                }
            }
            return (null, FilesProblems.Validation("file", "The multipart form has no part named 'file'."));
        }
        catch (Exception e) when (e is InvalidDataException
            || (e is IOException && e is not BadHttpRequestException and not ContentStoreException && !cancellationToken.IsCancellationRequested))
        {
            // The multipart reader's verdict on a malformed body (missing boundary, overlong headers): the client's error.
            // The content store's own failures are not (ContentStoreException: 503).
            return (null, FilesProblems.Validation("file", "The multipart/form-data body is malformed."));
        }
    }
}
