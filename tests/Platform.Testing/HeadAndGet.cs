using System.Net;
using System.Net.Http.Headers;

namespace Platform.Testing;

/// <summary>
/// The same request sent as GET and as HEAD, over real HTTP. <see cref="Differences"/> names every way HEAD did not
/// answer as GET did: another status, another Content-Type or compared header. Whether a body followed is not for a
/// client to see — HttpClient reads none after a HEAD's headers — and Kestrel sends none, whatever the handler writes.
/// </summary>
public sealed record HeadAndGet(HttpStatusCode Status, IReadOnlyList<string> Differences, byte[] GetBody)
{
    public static async Task<HeadAndGet> SendAsync(HttpClient http, string path, string? accessToken, params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(headers);
        using var get = await http.SendAsync(Request(HttpMethod.Get, path, accessToken));
        using var head = await http.SendAsync(Request(HttpMethod.Head, path, accessToken));
        var differences = new List<string>();
        if (head.StatusCode != get.StatusCode)
        {
            differences.Add($"status: GET {(int)get.StatusCode}, HEAD {(int)head.StatusCode}");
        }
        foreach (var name in headers.Prepend("Content-Type"))
        {
            if (Values(get, name) is var got && Values(head, name) is var headed && got != headed)
            {
                differences.Add($"{name}: GET {got ?? "(none)"}, HEAD {headed ?? "(none)"}");
            }
        }
        return new HeadAndGet(get.StatusCode, differences, await get.Content.ReadAsByteArrayAsync());
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? accessToken)
    {
        var request = new HttpRequestMessage(method, path);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        return request;
    }

    private static string? Values(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;
}
