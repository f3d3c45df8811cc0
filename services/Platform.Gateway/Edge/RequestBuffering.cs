using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Platform.Hosting.Problems;

namespace Platform.Gateway.Edge;

/// <summary>
/// Reads a request body whole before it is forwarded, on routes whose body limit is at most
/// <see cref="EdgeOptions.BufferRequestBodiesUpToBytes"/> (auth and tasks; not uploads), as nginx does by default.
/// An upstream that answers before it has read the body (415, 400, 401) then never races the gateway's own reading
/// of the client: over HTTP/2 that race left YARP's copy still reading when Kestrel tried to drain the rest, and
/// Kestrel closed the client's keep-alive connection after an answer that had not said so. It also keeps a slow
/// client from holding an upstream stream open while it trickles its body in.
/// </summary>
public static class RequestBuffering
{
    private const int FirstChunk = 16 * 1024;

    public static IReverseProxyApplicationBuilder UseRequestBuffering(this IReverseProxyApplicationBuilder pipeline)
    {
        var bufferUpTo = pipeline.ApplicationServices.GetRequiredService<IOptions<EdgeOptions>>().Value.BufferRequestBodiesUpToBytes;
        // A request without a body (reads) or on an unbuffered route goes on without an async step of its own.
        pipeline.Use((context, next) =>
        {
            var limit = BodyLimits.LimitOf(context);
            return context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: true } || limit is null || limit > bufferUpTo
                ? next(context)
                : BufferThenForwardAsync(context, next, limit.Value);
        });
        return pipeline;
    }

    private static async Task BufferThenForwardAsync(HttpContext context, RequestDelegate next, long limit)
    {
        byte[] body;
        int length;
        // ReadAsync stops one byte past the route's limit; Kestrel's own (1 MiB) would otherwise stop the drain of
        // a refused body's rest, and with it the connection.
        RefusedBodies.AllowDraining(context);
        try
        {
            (body, length) = await ReadAsync(context.Request, (int)limit, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await BodyLimits.WriteTooLargeAsync(context, limit);
            return;
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel refused the body otherwise: too slow (408) or malformed framing (400).
            var status = e.StatusCode is >= 400 and < 500 ? e.StatusCode : StatusCodes.Status400BadRequest;
            await context.WriteProblemAsync(status, ProblemTypes.ForStatus(status), "The request body could not be read.",
                status == StatusCodes.Status408RequestTimeout ? "The body arrived too slowly." : "The client sent a malformed body.");
            return;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            context.Abort(); // The client went away while sending: nobody to answer.
            return;
        }
        if (length > limit)
        {
            await BodyLimits.WriteTooLargeAsync(context, limit);
            return;
        }
        context.Request.Body = new MemoryStream(body, 0, length, writable: false);
        context.Request.Headers.TransferEncoding = default;
        context.Request.ContentLength = length;
        await next(context);
    }

    /// <summary>
    /// The whole body, or as far as one byte past <paramref name="limit"/> (the caller refuses that). Kestrel's own
    /// body limit may stop it sooner, with a <see cref="BadHttpRequestException"/>. Not pooled: YARP may still hold
    /// the stream when the response is done, and a body here is small (most are under a kilobyte).
    /// </summary>
    private static async Task<(byte[] Body, int Length)> ReadAsync(HttpRequest request, int limit, CancellationToken cancellation)
    {
        var declared = request.ContentLength;
        var buffer = new byte[(int)Math.Min(declared ?? FirstChunk, limit + 1L)];
        var length = 0;
        while (length <= limit)
        {
            if (length == buffer.Length)
            {
                if (declared is not null)
                {
                    break; // Kestrel never reads past Content-Length, and BodyLimits refused one over the limit.
                }
                Array.Resize(ref buffer, (int)Math.Min(Math.Max(buffer.Length * 2L, FirstChunk), limit + 1L));
            }
            var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellation);
            if (read == 0)
            {
                break;
            }
            length += read;
        }
        return (buffer, length);
    }
}
