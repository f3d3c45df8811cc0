using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Files.Storage;

namespace Platform.Files.Api;

/// <summary>
/// A file's content as ASP.NET Core's file result answers it, its body sent holding a download slot
/// (<see cref="DownloadSlots"/>): the content takes one at its first read, before the answer has started, and one
/// refused there is answered 503 instead of the file.
/// </summary>
public sealed class DownloadResult(FileStreamHttpResult file, FilesMetrics metrics) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        try
        {
            await file.ExecuteAsync(httpContext);
        }
        catch (DownloadsBusyException) when (!httpContext.Response.HasStarted)
        {
            metrics.DownloadRefused();
            httpContext.Response.Clear(); // the file's status and headers: none of it was sent
            await FilesProblems.DownloadsBusy(httpContext).ExecuteAsync(httpContext);
        }
    }
}
