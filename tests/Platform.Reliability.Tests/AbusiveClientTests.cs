using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Platform.Reliability.Tests;

/// <summary>
/// Clients that hold a connection without finishing a request, or send more header than anyone needs, are cut off
/// by Kestrel's limits (Platform.Hosting's KestrelDefaults) at the gateway and at every service, over raw sockets so
/// nothing in between tidies the request up.
/// </summary>
[Collection(ReliabilityPlatformCollection.Name)]
public sealed class AbusiveClientTests(ReliabilityPlatform platform)
{
    public static TheoryData<string> Targets() => new() { "gateway", "auth", "tasks", "files" };

    [Fact]
    public async Task Headers_trickled_a_byte_at_a_time_are_cut_off_by_the_header_timeout()
    {
        using var socket = await ConnectAsync("gateway");
        var clock = Stopwatch.StartNew();
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /api/health HTTP/1.1\r\nHost: localhost\r\n"));

        var cutOff = await TrickleUntilClosedAsync(socket, Encoding.ASCII.GetBytes("X-Slow: " + new string('a', 200)), TimeSpan.FromSeconds(25));

        Assert.True(cutOff, "the connection was still open after 25 s of trickled headers");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(16));
    }

    [Fact]
    public async Task A_body_trickled_below_the_minimum_data_rate_is_cut_off()
    {
        var user = await platform.SignUpAsync();
        using var socket = await ConnectAsync("gateway");
        var clock = Stopwatch.StartNew();
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"POST /api/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {user.AccessToken}\r\nX-Forwarded-For: {user.ClientAddress}\r\n" +
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"title\":\""));

        var cutOff = await TrickleUntilClosedAsync(socket, Encoding.ASCII.GetBytes(new string('a', 1_000)), TimeSpan.FromSeconds(30));

        Assert.True(cutOff, "the connection was still open after 30 s of a body at 2 bytes/s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"cut off only after {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task More_headers_than_the_limit_are_refused_431(string target)
    {
        var headers = string.Concat(Enumerable.Range(0, 100).Select(i => $"X-Many-{i}: {i}\r\n"));

        var status = await StatusOfAsync(target, $"GET /healthz HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n");

        Assert.Equal(431, status);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Headers_larger_than_the_limit_are_refused_431(string target)
    {
        var status = await StatusOfAsync(target, $"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Huge: {new string('h', 40 * 1024)}\r\n\r\n");

        Assert.Equal(431, status);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task A_request_line_longer_than_the_limit_is_refused_414(string target)
    {
        var status = await StatusOfAsync(target, $"GET /healthz?{new string('q', 10 * 1024)} HTTP/1.1\r\nHost: localhost\r\n\r\n");

        Assert.Equal(414, status);
    }

    private async Task<Socket> ConnectAsync(string target)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", platform.Services[target].Port);
        return socket;
    }

    /// <summary>Sends one byte every half second until the server closes the connection (true) or the deadline passes (false).</summary>
    private static async Task<bool> TrickleUntilClosedAsync(Socket socket, byte[] bytes, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4096];
        for (var i = 0; clock.Elapsed < deadline; i = (i + 1) % bytes.Length)
        {
            try
            {
                await socket.SendAsync(bytes.AsMemory(i, 1));
                using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                // Kestrel may answer 408 before it closes: either way the connection is over for this client.
                if (await socket.ReceiveAsync(buffer, wait.Token) >= 0)
                {
                    return true;
                }
            }
            catch (OperationCanceledException)
            {
                // Nothing from the server within the pause: the connection still stands; send the next byte.
            }
            catch (SocketException)
            {
                return true;
            }
        }
        return false;
    }

    private async Task<int> StatusOfAsync(string target, string request)
    {
        using var socket = await ConnectAsync(target);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await socket.ReceiveAsync(buffer, timeout.Token);
        var statusLine = Encoding.ASCII.GetString(buffer, 0, read);
        return int.Parse(statusLine.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }
}
