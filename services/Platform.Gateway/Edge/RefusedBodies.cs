using Microsoft.AspNetCore.Http.Features;

namespace Platform.Gateway.Edge;

public static class RefusedBodies
{
    /// <summary>
    /// The most of an unread body a refusal waits out to keep the connection: what a client on a fast link sends in
    /// well under Kestrel's 5 s (a slower one may still see the connection closed after the answer).
    /// </summary>
    public const long DrainUpToBytes = 16 * 1024 * 1024;

    /// <summary>
    /// An HTTP/1.1 request refused before its body was read (401, 404, 413, 429 …) leaves that body on the
    /// connection. Kestrel reads and drops it after the answer (for at most 5 s), so the connection can carry the
    /// client's next request — but only up to Kestrel's MaxRequestBodySize (1 MiB): past that it drops the
    /// connection, after an answer that did not say so, and the client's next request on it meets a broken pipe.
    /// A refusal lifts that limit for the body it did not read, so Kestrel can drain it; Kestrel's own 5 s still
    /// bounds what a client can make it discard. A body announced over <see cref="DrainUpToBytes"/> is not worth
    /// waiting for: its refusal says <c>Connection: close</c> instead. Reads have no body and pay one check.
    /// </summary>
    public static IApplicationBuilder UseRefusedBodyDraining(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true }
                && (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol)))
            {
                context.Response.OnStarting(static state =>
                {
                    var http = (HttpContext)state;
                    if (http.Response.StatusCode < StatusCodes.Status400BadRequest)
                    {
                        return Task.CompletedTask;
                    }
                    if (http.Request.ContentLength > DrainUpToBytes && http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false })
                    {
                        http.Response.Headers.Connection = "close";
                    }
                    else
                    {
                        AllowDraining(http);
                    }
                    return Task.CompletedTask;
                }, context);
            }
            return next(context);
        });

    /// <summary>
    /// Lifts Kestrel's body limit while nothing of the body has been read (afterwards it is fixed); for a caller
    /// that enforces a limit of its own, or refuses the body.
    /// </summary>
    public static void AllowDraining(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }
    }
}
