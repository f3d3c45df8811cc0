namespace Platform.Gateway.Edge;

/// <summary>The <c>Edge</c> section: who may tell the gateway where a request came from, and which browser origins may call it.</summary>
public sealed class EdgeOptions
{
    public const string Section = "Edge";

    /// <summary>
    /// Networks (CIDR) of the proxies in front of the gateway (the ingress controller's pods). Only their
    /// X-Forwarded-For/Proto/Host are believed; from anyone else those headers are replaced. Empty: trust nobody.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// How many proxies in front of the gateway each add an entry to X-Forwarded-For: the ingress controller, 1; a
    /// load balancer or CDN that adds one in front of it, one more each. The gateway believes that many entries from the
    /// right and no more, even where an entry lies in <see cref="TrustedProxies"/> (a NAT-ing load balancer's address
    /// does): the entries further left are whatever the client sent.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10)]
    public int ProxyHops { get; set; } = 1;

    /// <summary>Origins (scheme://host[:port]) whose browser scripts may call the API. Empty: no cross-origin access.</summary>
    public List<string> CorsOrigins { get; set; } = [];

    /// <summary>
    /// Request bodies on routes whose limit is at most this many bytes are read whole before they are forwarded
    /// (auth's and tasks' 1 MiB); larger limits (uploads) stream. 0: stream every body.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 64 * 1024 * 1024)]
    public int BufferRequestBodiesUpToBytes { get; set; } = 1024 * 1024;
}
