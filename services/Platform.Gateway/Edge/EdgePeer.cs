using System.Net;

namespace Platform.Gateway.Edge;

/// <summary>
/// The address of whoever opened the connection to the gateway (the ingress controller in a cluster), kept
/// before forwarded headers replace the connection's address with the client's.
/// </summary>
public static class EdgePeer
{
    private static readonly object Key = new();

    public static IApplicationBuilder UseEdgePeer(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Items[Key] = context.Connection.RemoteIpAddress;
            return next(context);
        });

    public static IPAddress? Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(Key, out var peer) ? peer as IPAddress : context.Connection.RemoteIpAddress;
    }
}
