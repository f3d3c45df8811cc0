using System.Buffers;
using System.Diagnostics;

namespace Platform.Gateway.Edge;

public static class RequestIds
{
    public const string Header = "X-Request-Id";

    private const int MaxLength = 128;

    /// <summary>Printable ASCII without separators that could split a log line or a header.</summary>
    private static readonly SearchValues<char> Acceptable =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:");

    /// <summary>
    /// Every request carries an <c>X-Request-Id</c> to the upstream and back to the client: the client's own
    /// when it is a sane token, otherwise the trace id, so a support request can quote either.
    /// </summary>
    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) =>
        app.Use(static (context, next) =>
        {
            var headers = context.Request.Headers;
            if (!IsAcceptable(headers[Header].ToString()))
            {
                headers[Header] = Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N");
            }
            // The context as the callback's state, not captured: no closure to allocate per request.
            context.Response.OnStarting(static state =>
            {
                var http = (HttpContext)state;
                http.Response.Headers[Header] = http.Request.Headers[Header];
                return Task.CompletedTask;
            }, context);
            return next(context);
        });

    private static bool IsAcceptable(string id) => id.Length is > 0 and <= MaxLength && !id.AsSpan().ContainsAnyExcept(Acceptable);
}
