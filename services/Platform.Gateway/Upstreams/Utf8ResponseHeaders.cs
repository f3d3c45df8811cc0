using System.Text;

namespace Platform.Gateway.Upstreams;

/// <summary>
/// Response headers an upstream writes in UTF-8 and the gateway passes on as they are: auth's forward-auth answer
/// names the caller's e-mail address in <c>X-User-Email</c>, and an address may be non-ASCII. HttpClient decodes a
/// header as Latin-1 and Kestrel refuses anything but ASCII, so such an answer became a 502 through the gateway
/// (the ingress asks the gateway's <c>/api/auth/verify</c>), for every request of that user to a protected app.
/// </summary>
public static class Utf8ResponseHeaders
{
    private static readonly string[] Names = ["X-User-Email"];

    public static Encoding? Upstream(string name, HttpRequestMessage request) => Select(name);

    public static Encoding? Client(string name) => Select(name);

    private static Encoding? Select(string name) =>
        Array.Exists(Names, known => string.Equals(known, name, StringComparison.OrdinalIgnoreCase)) ? Encoding.UTF8 : null;
}
