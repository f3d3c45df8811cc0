using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Platform.Gateway.Upstreams;

/// <summary>The <c>Upstreams</c> section: how the gateway finds the pods behind an upstream's name.</summary>
public sealed class UpstreamAddressOptions
{
    public const string Section = "Upstreams";

    /// <summary>How often a destination's host name is looked up again, so new pods get requests and gone ones stop getting them.</summary>
    [Range(1, 3600)]
    public int DnsRefreshSeconds { get; set; } = 5;
}

/// <summary>
/// Turns a destination whose address names a host into one destination per address the name resolves to, looked up
/// again every <see cref="UpstreamAddressOptions.DnsRefreshSeconds"/>. With edge.http2Upstreams the gateway speaks
/// HTTP/2 to auth and tasks, whose requests share one connection per destination; through a Service's virtual IP that
/// would be one pod, so the chart names a headless Service, whose name resolves to every ready pod, and YARP balances
/// requests over them (a ClusterIP Service's name resolves to its one virtual IP, as before). A lookup that fails keeps the addresses found last (a name with none yet stays as it is:
/// its requests fail as an unreachable upstream until a lookup succeeds); an address is a destination as it is.
/// Destinations are named after their address, so health and circuit state stay with the pod, not a position in a list.
/// </summary>
public sealed partial class UpstreamAddresses(
    IOptionsMonitor<UpstreamAddressOptions> options,
    ILogger<UpstreamAddresses> logger,
    Func<string, CancellationToken, Task<IPAddress[]>>? lookup = null) : IDestinationResolver
{
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> lookup = lookup ?? Dns.GetHostAddressesAsync;
    private readonly Dictionary<string, IPAddress[]> lastFound = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock gate = new();

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, destination) in destinations)
        {
            var address = new Uri(destination.Address);
            if (address.HostNameType is not UriHostNameType.Dns)
            {
                resolved[name] = destination;
                continue;
            }
            var found = await LookUpAsync(address.DnsSafeHost, cancellationToken);
            if (found.Length == 0)
            {
                resolved[name] = destination;
                continue;
            }
            foreach (var ip in found)
            {
                var at = new UriBuilder(address) { Host = ip.ToString() }.Uri;
                resolved[$"{name}@{ip}"] = destination with { Address = at.ToString(), Host = destination.Host ?? address.Authority };
            }
        }
        var refresh = TimeSpan.FromSeconds(options.CurrentValue.DnsRefreshSeconds);
        return new ResolvedDestinationCollection(resolved, new CancellationChangeToken(new CancellationTokenSource(refresh).Token));
    }

    private async Task<IPAddress[]> LookUpAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            var found = await lookup(host, cancellationToken);
            Array.Sort(found, (a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
            lock (gate)
            {
                lastFound[host] = found;
            }
            return found;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ArgumentException)
        {
            IPAddress[]? last;
            lock (gate)
            {
                lastFound.TryGetValue(host, out last);
            }
            LogLookupFailed(logger, host, e.Message, last?.Length ?? 0);
            return last ?? [];
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking up upstream host {Host} failed ({Reason}); keeping the {Count} address(es) found last")]
    private static partial void LogLookupFailed(ILogger logger, string host, string reason, int count);
}
