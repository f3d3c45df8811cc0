using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Platform.Hosting.Http;

public static class UnreadBodies
{
    /// <summary>The most of an unread body that is read and dropped; a longer one is left to Kestrel.</summary>
    public const int ReadUpToBytes = 64 * 1024;

    /// <summary>
    /// Reads the rest of a small request body the endpoint answered without (a 204 that takes no body, a 401 or
    /// 415 before binding). Over HTTP/2 Kestrel otherwise resets the stream after the answer, and a proxy whose
    /// last DATA frame is still on its way sees its copy of the body fail: YARP then turned the answer into a 502,
    /// and a burst of such resets filled Kestrel's table of closing streams until it refused every new stream on
    /// the gateway's shared connection (ENHANCE_YOUR_CALM) — one client's junk became everyone's 502s. Bodies over
    /// <see cref="ReadUpToBytes"/>, and those the client waits to be asked for (<c>Expect: 100-continue</c>), are
    /// not read. A body already read costs one read that returns at once.
    /// </summary>
    public static IApplicationBuilder UseUnreadBodyReading(this IApplicationBuilder app) =>
        app.Use(static async (context, next) =>
        {
            await next(context);
            var request = context.Request;
            if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true }
                && request.ContentLength is null or <= ReadUpToBytes
                && request.Headers.Expect.Count == 0
                && context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true })
            {
                await ReadRestAsync(request.Body, context.RequestAborted);
            }
        });

    private static async Task ReadRestAsync(Stream body, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            for (var total = 0; total <= ReadUpToBytes;)
            {
                var read = await body.ReadAsync(buffer, cancellation);
                if (read == 0)
                {
                    return;
                }
                total += read;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException or InvalidOperationException)
        {
            // The client went away, sent a malformed or over-limit body, or the endpoint closed the body: the answer stands.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
