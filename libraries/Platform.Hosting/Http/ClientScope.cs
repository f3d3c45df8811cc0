using System.Net;
using System.Net.Sockets;

namespace Platform.Hosting.Http;

/// <summary>
/// The part of a client's address that limits are kept by: an IPv4 address whole, an IPv6 one by its /64 — the
/// prefix one subscriber is routinely given whole, from which a client can take a fresh address for every request.
/// </summary>
public static class ClientScope
{
    public static string Of(IPAddress? client)
    {
        if (client is null)
        {
            return "unknown";
        }
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }
        if (client.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return client.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        client.TryWriteBytes(bytes, out _);
        return Convert.ToHexStringLower(bytes[..8]) + "/64";
    }
}
