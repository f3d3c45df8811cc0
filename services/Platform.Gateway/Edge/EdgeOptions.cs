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

    /// <summary>Origins (scheme://host[:port]) whose browser scripts may call the API. Empty: no cross-origin access.</summary>
    public List<string> CorsOrigins { get; set; } = [];
}
