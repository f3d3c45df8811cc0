using System.Net;
using System.Net.Sockets;

namespace Platform.Hosting.Http;

/// <summary>
/// The part of a client's address that limits are kept by: an IPv4 address whole, an IPv6 one by its /64 — the
/// prefix one subscriber is routinely given whole, from which a client can take a fresh address for every request —
/// except an IPv4 client seen through NAT64 (64:ff9b::/96), which is its IPv4 address again.
/// </summary>
public static class ClientScope
{
    private static ReadOnlySpan<byte> Nat64Prefix => [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

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
        if (bytes[..12].SequenceEqual(Nat64Prefix))
        {
            return new IPAddress(bytes[12..]).ToString();
        }
        return Convert.ToHexStringLower(bytes[..8]) + "/64";
    }
}
