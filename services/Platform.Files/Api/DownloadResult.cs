using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Files.Storage;

namespace Platform.Files.Api;

/// <summary>
/// A file's content as ASP.NET Core's file result answers it, with what that result does not do:
/// <list type="bullet">
/// <item>Its body is sent holding a download slot (<see cref="DownloadSlots"/>): the content takes one at its first
/// read, before the answer has started, and a download refused one there is answered 503 instead of the file.</item>
/// <item>Its 416 is problem details like every other error. The result writes an empty 416 in the file's own media
/// type, as an attachment, wherever it finds the range unsatisfiable — after If-Match, If-None-Match, the dates and
/// If-Range, which RFC 9110 §13.2.2 evaluates first — so it is rewritten here, after them, not guessed beforehand.</item>
/// <item>Its 412 says which file the condition failed on. The result writes it bare, and the status-code pages would give
/// it only the generic "Precondition Failed"; its ETag and Last-Modified headers stay, as the version to ask for.</item>
/// </list>
/// </summary>
public sealed class DownloadResult(FileStreamHttpResult file, DownloadSlots slots, FilesMetrics metrics) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        try
        {
            await file.ExecuteAsync(httpContext);
        }
        catch (DownloadRefusedException refused) when (!httpContext.Response.HasStarted)
        {
            httpContext.Response.Clear(); // the file's status and headers: none of it was sent
            metrics.DownloadRefused(refused.UserAtLimit);
            var problem = refused.UserAtLimit ? FilesProblems.TooManyDownloads(httpContext, slots.PerUser) : FilesProblems.DownloadsBusy(httpContext);
            await problem.ExecuteAsync(httpContext);
            return;
        }
        if (httpContext.Response.HasStarted)
        {
            return;
        }
        if (httpContext.Response.StatusCode == StatusCodes.Status416RangeNotSatisfiable)
        {
            httpContext.Response.Clear(); // the empty body's Content-Length: 0, and the file's type and disposition
            await FilesProblems.RangeNotSatisfiable(httpContext, file.FileLength ?? 0).ExecuteAsync(httpContext);
        }
        else if (httpContext.Response.StatusCode == StatusCodes.Status412PreconditionFailed)
        {
            await FilesProblems.PreconditionFailed(file.EntityTag, file.LastModified).ExecuteAsync(httpContext);
        }
    }
}
