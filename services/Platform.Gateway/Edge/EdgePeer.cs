using System.Net;

namespace Platform.Gateway.Edge;

/// <summary>
/// The address of whoever opened the connection to the gateway (the ingress controller in a cluster), kept
/// before forwarded headers replace the connection's address with the client's.
/// </summary>
public static class EdgePeer
{
    /// <summary>
    /// A feature rather than an entry in <see cref="HttpContext.Items"/>: Kestrel keeps the slot for it across the
    /// connection's requests, where Items is a new dictionary on every request.
    /// </summary>
    private sealed class Peer(IPAddress? address)
    {
        public IPAddress? Address { get; } = address;
    }

    public static IApplicationBuilder UseEdgePeer(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Features.Set(new Peer(context.Connection.RemoteIpAddress));
            return next(context);
        });

    public static IPAddress? Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<Peer>() is { } peer ? peer.Address : context.Connection.RemoteIpAddress;
    }
}
