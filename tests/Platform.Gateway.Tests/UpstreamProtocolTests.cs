using System.Net;
using System.Text.RegularExpressions;

namespace Platform.Gateway.Tests;

/// <summary>
/// The gateway reaches auth and tasks over HTTP/2 without TLS, on the port each keeps for it (scripts/platform.sh as the
/// chart sets it), and files over HTTP/1.1: what each service counted in its own request metrics says which it got.
/// </summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed partial class UpstreamProtocolTests(GatewayPlatform platform)
{
    [Fact]
    public async Task Auth_and_tasks_are_reached_over_http2_and_files_over_http11()
    {
        var user = await platform.SignUpAsync();
        foreach (var path in new[] { "/api/tasks", "/api/auth/me", "/api/files" })
        {
            using var request = platform.Request(HttpMethod.Get, path, user.ClientAddress, user.AccessToken);
            using var answer = await platform.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        // Tests of the same platform may call auth and tasks directly, over HTTP/1.1; the gateway never does.
        Assert.Contains("2", await ProtocolsAsync("tasks", "/api/tasks/"));
        Assert.Contains("2", await ProtocolsAsync("auth", "/api/auth/me"));
        Assert.Equal(["1.1"], await ProtocolsAsync("files", "/api/files/"));
    }

    /// <summary>The protocol versions of the requests a service counted for one route.</summary>
    private async Task<string[]> ProtocolsAsync(string service, string route)
    {
        var metrics = await platform.Client.GetStringAsync(new Uri(platform.Services[service], "/metrics"));
        return metrics.Split('\n')
            .Where(line => line.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
                && line.Contains($"http_route=\"{route}\"", StringComparison.Ordinal))
            .Select(line => ProtocolLabel().Match(line).Groups[1].Value)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    [GeneratedRegex("network_protocol_version=\"([^\"]*)\"")]
    private static partial Regex ProtocolLabel();
}
