using System.Diagnostics;

namespace Platform.Gateway.Edge;

public static class RequestIds
{
    public const string Header = "X-Request-Id";

    private const int MaxLength = 128;

    /// <summary>
    /// Every request carries an <c>X-Request-Id</c> to the upstream and back to the client: the client's own
    /// when it is a sane token, otherwise the trace id, so a support request can quote either.
    /// </summary>
    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var headers = context.Request.Headers;
            string id = headers[Header].ToString();
            if (!IsAcceptable(id))
            {
                id = Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N");
                headers[Header] = id;
            }
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[Header] = id;
                return Task.CompletedTask;
            });
            return next(context);
        });

    /// <summary>Printable ASCII without separators that could split a log line or a header.</summary>
    private static bool IsAcceptable(string id) =>
        id.Length is > 0 and <= MaxLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
