using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Platform.Api.OpenApi;
using Platform.Authentication;
using Platform.Files.Data;
using Platform.Files.Storage;
using Platform.Hosting.Http;
using Platform.Hosting.Problems;

namespace Platform.Files.Api;

/// <summary>Listing, metadata, content and deletion of the caller's own files; another user's file is 404.</summary>
public static class FilesApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    public static RouteGroupBuilder MapFilesApi(this RouteGroupBuilder files)
    {
        files.MapGet("/", ListAsync).WithName("ListFiles").WithSummary("The caller's files, newest first, a page at a time")
            .WithDescription("cursor is the nextCursor of the previous page; limit 1–200 (default 50).");
        files.MapGet("/{id:guid}", GetAsync).WithName("GetFile").WithSummary("One file's metadata")
            .ProducesProblems(StatusCodes.Status404NotFound, NotFoundDescription, ProblemTypes.NotFound);
        files.MapGet("/{id:guid}/content", ContentAsync).WithName("DownloadFile").WithSummary("A file's bytes, whole or one byte range")
            .WithDescription("Streamed with the stored Content-Type. Several ranges, a malformed range or another unit get the whole file (200).")
            .Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream")
            .Produces<Stream>(StatusCodes.Status206PartialContent, "application/octet-stream")
            .WithDownloadAnswers().WithSeparateHead()
            .ProducesProblems(StatusCodes.Status429TooManyRequests, "The caller already has as many downloads being sent as one user may on this instance.", ProblemTypes.TooManyRequests)
            .WithResponseHeader(StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds until the file may be asked for again.")
            .WithResponseHeader(StatusCodes.Status503ServiceUnavailable, "Retry-After", "Seconds until the file may be asked for again.")
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable, "This instance already sends as many downloads as it may at once.", ProblemTypes.Overloaded);
        files.MapMethods("/{id:guid}/content", [HttpMethods.Head], ContentAsync).WithName("DownloadFileHeaders").WithSummary("What a download would answer, without its bytes")
            .WithDescription("The status and headers GET would answer to the same request — Content-Length of what it would send, ETag, Last-Modified, "
                + "Accept-Ranges, Content-Range — and no body. The content is not read and takes no download slot, so it is never refused for want of one.")
            .Produces(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status206PartialContent)
            .WithResponseHeader(StatusCodes.Status200OK, "Content-Length", "The file's size in bytes.")
            .WithResponseHeader(StatusCodes.Status206PartialContent, "Content-Length", "The range's length in bytes.")
            .WithDownloadAnswers();
        files.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteFile").WithSummary("Delete a file")
            .ProducesProblems(StatusCodes.Status404NotFound, NotFoundDescription, ProblemTypes.NotFound);
        return files;
    }

    private const string NotFoundDescription = "No such file of the caller's.";
    private const string EtagDescription = "\"<sha256 of the content>\" (strong).";

    /// <summary>What GET and HEAD of a file's content both answer: conditions, ranges and their errors.</summary>
    private static RouteHandlerBuilder WithDownloadAnswers(this RouteHandlerBuilder download) =>
        download
            .Produces(StatusCodes.Status304NotModified)
            .WithRequestHeader("Range", "One byte range: a-b, a- or -n.")
            .WithRequestHeader("If-Range", "The ETag or date the client holds: the range is served only if the file is still that one.")
            .WithRequestHeader("If-None-Match", "ETags the client holds: 304 when one matches.")
            .WithContentHeaders(StatusCodes.Status200OK)
            .WithContentHeaders(StatusCodes.Status206PartialContent)
            .WithResponseHeader(StatusCodes.Status206PartialContent, "Content-Range", "bytes a-b/size")
            .WithResponseHeader(StatusCodes.Status304NotModified, "ETag", EtagDescription)
            .ProducesProblems(StatusCodes.Status404NotFound, NotFoundDescription, ProblemTypes.NotFound)
            .ProducesProblems(StatusCodes.Status412PreconditionFailed, "If-Match or If-Unmodified-Since names another version of the file.", ProblemTypes.PreconditionFailed)
            .ProducesProblems(StatusCodes.Status416RangeNotSatisfiable, "The range starts past the end of the file.", ProblemTypes.RangeNotSatisfiable)
            .WithResponseHeader(StatusCodes.Status416RangeNotSatisfiable, "Content-Range", "bytes */size");

    private static RouteHandlerBuilder WithContentHeaders(this RouteHandlerBuilder download, int status) =>
        download
            .WithResponseHeader(status, "ETag", EtagDescription)
            .WithResponseHeader(status, "Accept-Ranges", "bytes")
            .WithResponseHeader(status, "Content-Disposition", "attachment; filename=…; filename*=UTF-8''… (RFC 6266)")
            .WithResponseHeader(status, "Last-Modified", "When the file was uploaded.");

    /// <summary>Newest first; the cursor is the last id of the page, so pages stay stable while files come and go.</summary>
    private static async Task<Results<Ok<FilePage>, ValidationProblem>> ListAsync(string? cursor, string? limit, ClaimsPrincipal principal, FileCatalog catalog, CancellationToken cancellationToken)
    {
        var pageSize = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            return FilesProblems.Validation("limit", $"limit must be a whole number from 1 to {MaxPageSize}.");
        }
        Guid? after = null;
        if (cursor is not null)
        {
            if (!Guid.TryParseExact(cursor, "N", out var last))
            {
                return FilesProblems.Validation("cursor", "cursor must be a nextCursor this API returned.");
            }
            after = last;
        }
        var found = await catalog.ListAsync(principal.UserId(), after, pageSize + 1, cancellationToken);
        var items = found.Take(pageSize).Select(FileView.Of).ToList();
        return TypedResults.Ok(new FilePage(items, found.Count > pageSize ? items[^1].Id.ToString("N") : null));
    }

    private static async Task<Results<Ok<FileView>, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal principal, FileCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.FindAsync(principal.UserId(), id, cancellationToken) is { } file
            ? TypedResults.Ok(FileView.Of(file))
            : FilesProblems.NotFound();

    /// <summary>
    /// ASP.NET Core's file result does the HTTP semantics over the seekable chunk stream: ETag and If-None-Match
    /// (304), If-Match and If-Unmodified-Since (412), If-Range, a single byte range (206, or 416 with <c>Content-Range:
    /// bytes */size</c>, also for any range of an empty file; several ranges, or a malformed one, get the whole file,
    /// 200), Accept-Ranges, and an attachment Content-Disposition with an RFC 5987 <c>filename*</c>. Its body is sent
    /// holding a download slot, and its 416 is problem details (<see cref="DownloadResult"/>). A HEAD goes the same way,
    /// with the same owner's check, but over <see cref="UnreadContent"/>: the file result sends it no body, so its
    /// content is neither opened nor read and it takes no slot.
    /// </summary>
    private static async Task<Results<DownloadResult, ProblemHttpResult>> ContentAsync(
        Guid id, HttpContext http, ClaimsPrincipal principal, FileCatalog catalog, FileContent contents, DownloadSlots slots, FilesMetrics metrics,
        CancellationToken cancellationToken)
    {
        var owner = principal.UserId();
        if (await catalog.FindAsync(owner, id, cancellationToken) is not { } file)
        {
            return FilesProblems.NotFound();
        }
        IgnoreRangesOfOtherUnits(http.Request);
        http.Response.Headers.XContentTypeOptions = "nosniff";
        var content = HttpMethods.IsHead(http.Request.Method) ? new UnreadContent(file.Size) : slots.Hold(contents.Open(file), owner);
        return new DownloadResult(TypedResults.File(content, file.ContentType, file.Name,
            lastModified: file.CreatedAt, entityTag: new EntityTagHeaderValue($"\"{file.Sha256Hex}\""), enableRangeProcessing: true), slots, metrics);
    }

    /// <summary>
    /// RFC 9110 §14.2: a Range in a unit we do not serve is ignored. ASP.NET Core's range handling looks only at the
    /// ranges, so <c>items=0-10</c> would otherwise be served as bytes 0–10.
    /// </summary>
    private static void IgnoreRangesOfOtherUnits(HttpRequest request)
    {
        var range = request.Headers.Range;
        if (range.Count > 0 && (range.Count > 1 || !RangeHeaderValue.TryParse(range.ToString(), out var parsed) || !parsed.Unit.Equals("bytes", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Remove(HeaderNames.Range);
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, ClaimsPrincipal principal, FileCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.DeleteAsync(principal.UserId(), id, FileEvents.CorrelationId(), cancellationToken)
            ? TypedResults.NoContent()
            : FilesProblems.NotFound();
}
