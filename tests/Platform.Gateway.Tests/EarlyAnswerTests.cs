using System.Globalization;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;

namespace Platform.Gateway.Tests;

/// <summary>
/// An upstream may answer before it has read the request body (a 415 for the wrong content type, a 401 for a
/// token it refuses). The client's keep-alive connection must survive that: its next request on the same
/// connection gets an answer. Raw sockets, because HttpClient would quietly retry on a fresh connection.
/// </summary>
[Collection(GatewayPlatformCollection.Name)]
public sealed class EarlyAnswerTests(GatewayPlatform platform)
{
    [Theory]
    [InlineData("/api/tasks", "text/plain", 200_000, false, 415)]
    [InlineData("/api/tasks", "text/plain", 900_000, true, 415)]
    [InlineData("/api/tasks", "application/json", 900_000, true, 400)]
    [InlineData("/api/auth/login", "text/plain", 300_000, false, 415)]
    [InlineData("/api/auth/login", "application/json", 300_000, true, 400)]
    [InlineData("/api/tasks", "application/json", 1024 * 1024 + 16 * 1024, true, 413)]
    [InlineData("/api/auth/login", "application/json", 1024 * 1024 + 16 * 1024, true, 413)]
    public async Task A_body_the_upstream_never_read_leaves_the_connection_usable(string path, string contentType, int bodyBytes, bool chunked, int status)
    {
        var user = await platform.SignUpAsync();
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(platform.Gateway.Host, platform.Gateway.Port);
        await using var stream = tcp.GetStream();
        var reader = new RawResponseReader(stream);

        for (var round = 0; round < 20; round++)
        {
            var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {bodyBytes}";
            await WriteAsync(stream, $"POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {user.AccessToken}\r\n"
                + $"X-Forwarded-For: {platform.NewClientAddress()}\r\nContent-Type: {contentType}\r\n{framing}\r\n\r\n");
            // A fresh client address each time keeps the login rate limit out of it. The body in pieces, so the upstream's answer can arrive while the gateway is still forwarding it. Not
            // JSON from its first byte on: a parser gives up at once.
            var piece = new string('x', 16_384);
            try
            {
                for (var sent = 0; sent < bodyBytes; sent += piece.Length)
                {
                    var part = piece[..Math.Min(piece.Length, bodyBytes - sent)];
                    await WriteAsync(stream, chunked ? $"{part.Length:x}\r\n{part}\r\n" : part);
                }
                if (chunked)
                {
                    await WriteAsync(stream, "0\r\n\r\n");
                }
            }
            catch (IOException)
            {
                // The gateway may stop reading a body over the limit and close the connection after saying so.
            }
            var refused = await reader.ReadAsync();
            Assert.Equal(status, refused.Status);
            if (refused.Head.Contains("connection: close", StringComparison.OrdinalIgnoreCase))
            {
                // Announced: the client knows to open a new connection. Only an over-limit body may cost one.
                Assert.Equal(413, status);
                return;
            }

            await WriteAsync(stream, $"GET /api/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {user.AccessToken}\r\n"
                + $"X-Forwarded-For: {user.ClientAddress}\r\n\r\n");
            var next = await reader.ReadAsync();
            Assert.Equal(200, next.Status);
        }
    }

    [Fact]
    public async Task A_chunked_body_read_whole_by_the_gateway_reaches_the_upstream_intact()
    {
        var user = await platform.SignUpAsync();
        const string title = "chunked ✓";
        var description = new string('é', 10_000); // 20 KB of UTF-8: more than the gateway's first 16 KiB piece
        using var request = platform.Request(HttpMethod.Post, "/api/tasks", user.ClientAddress, user.AccessToken);
        // Chunked: the gateway reads it in pieces of unknown total.
        request.Headers.TransferEncodingChunked = true;
        request.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($"{{\"title\":\"{title}\",\"description\":\"{description}\"}}")));
        request.Content.Headers.ContentType = new("application/json");

        using var answer = await platform.Client.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.Created, answer.StatusCode);
        var created = await answer.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal(title, created.GetProperty("title").GetString());
        Assert.Equal(description, created.GetProperty("description").GetString());
    }

    private static Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    /// <summary>Reads HTTP/1.1 responses one after another from one connection (Content-Length or chunked bodies).</summary>
    private sealed class RawResponseReader(NetworkStream stream)
    {
        private readonly List<byte> buffered = [];

        public async Task<(int Status, string Head, string Body)> ReadAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var head = Encoding.ASCII.GetString(await ReadUntilAsync("\r\n\r\n"u8.ToArray(), timeout.Token));
            var status = int.Parse(head.Split(' ')[1], CultureInfo.InvariantCulture);
            var lines = head.Split("\r\n");
            var length = lines.FirstOrDefault(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
            var body = new StringBuilder();
            if (length is not null)
            {
                body.Append(Encoding.UTF8.GetString(await ReadExactlyAsync(int.Parse(length[15..].Trim(), CultureInfo.InvariantCulture), timeout.Token)));
            }
            else if (lines.Any(l => l.Equals("transfer-encoding: chunked", StringComparison.OrdinalIgnoreCase)))
            {
                while (true)
                {
                    var size = Convert.ToInt32(Encoding.ASCII.GetString(await ReadUntilAsync("\r\n"u8.ToArray(), timeout.Token)).Trim(), 16);
                    body.Append(Encoding.UTF8.GetString(await ReadExactlyAsync(size, timeout.Token)));
                    await ReadExactlyAsync(2, timeout.Token);
                    if (size == 0)
                    {
                        break;
                    }
                }
            }
            return (status, head, body.ToString());
        }

        private async Task<byte[]> ReadUntilAsync(byte[] end, CancellationToken cancellation)
        {
            while (true)
            {
                var at = IndexOf(end);
                if (at >= 0)
                {
                    var found = buffered.GetRange(0, at).ToArray();
                    buffered.RemoveRange(0, at + end.Length);
                    return found;
                }
                await FillAsync(cancellation);
            }
        }

        private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellation)
        {
            while (buffered.Count < count)
            {
                await FillAsync(cancellation);
            }
            var found = buffered.GetRange(0, count).ToArray();
            buffered.RemoveRange(0, count);
            return found;
        }

        private async Task FillAsync(CancellationToken cancellation)
        {
            var chunk = new byte[8192];
            var read = await stream.ReadAsync(chunk, cancellation);
            if (read == 0)
            {
                throw new IOException("The gateway closed the connection.");
            }
            buffered.AddRange(chunk.AsSpan(0, read).ToArray());
        }

        private int IndexOf(byte[] end)
        {
            for (var i = 0; i + end.Length <= buffered.Count; i++)
            {
                var match = true;
                for (var j = 0; j < end.Length && match; j++)
                {
                    match = buffered[i + j] == end[j];
                }
                if (match)
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
