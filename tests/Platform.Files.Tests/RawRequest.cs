using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Platform.Files.Tests;

/// <summary>
/// A request whose body stops after its first bytes, over a raw socket: HttpClient waits to have sent the whole body
/// before it returns an answer, so it cannot show that the service answered without waiting for the rest.
/// </summary>
internal static class RawRequest
{
    /// <summary>
    /// Sends <paramref name="head"/> (request line and headers, without the blank line after them) and
    /// <paramref name="bodyStart"/>, then nothing more, and reads the answer, or times out.
    /// </summary>
    public static async Task<(int Status, string Head, string Body)> SendAndStallAsync(Uri service, string head, string bodyStart, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(service.Host, service.Port, cancellation.Token);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + "\r\nConnection: close\r\n\r\n" + bodyStart), cancellation.Token);

        // Read as far as the answer goes: the connection may then wait for the body, or be reset for want of it.
        var received = new List<byte>();
        var buffer = new byte[8192];
        while (true)
        {
            if (Complete(Encoding.ASCII.GetString([.. received])) is { } answer)
            {
                return answer;
            }
            var read = await stream.ReadAsync(buffer, cancellation.Token);
            if (read == 0)
            {
                throw new IOException("The service closed the connection before it had answered.");
            }
            received.AddRange(buffer.AsSpan(0, read));
        }
    }

    /// <summary>The answer, once all of it has arrived: its head, and a body of its Content-Length or its last chunk.</summary>
    private static (int Status, string Head, string Body)? Complete(string text)
    {
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }
        var head = text[..end];
        var body = text[(end + 4)..];
        var status = int.Parse(head.Split(' ')[1], CultureInfo.InvariantCulture);
        if (head.Contains("transfer-encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            return body.EndsWith("0\r\n\r\n", StringComparison.Ordinal) ? (status, head, Unchunk(body)) : null;
        }
        var length = head.Split("\r\n").FirstOrDefault(line => line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
        var expected = length is null ? 0 : int.Parse(length["content-length:".Length..].Trim(), CultureInfo.InvariantCulture);
        return body.Length >= expected ? (status, head, body[..expected]) : null;
    }

    private static string Unchunk(string chunked)
    {
        var body = new StringBuilder();
        for (var at = 0; ;)
        {
            var lineEnd = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = int.Parse(chunked[at..lineEnd], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                return body.ToString();
            }
            body.Append(chunked, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
    }
}
