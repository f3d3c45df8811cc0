using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Platform.Testing;

/// <summary>
/// A loopback TCP relay to a server, to cut a client off from that server (a network partition) while the
/// server itself stays up and other clients keep using it. While cut, open connections are dropped and new
/// ones are closed as soon as they are accepted.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly string targetHost;
    private readonly int targetPort;
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentDictionary<Socket, byte> open = new();
    private readonly Task accepting;
    private volatile bool cut;

    public TcpProxy(string targetHost, int targetPort)
    {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public void Cut()
    {
        cut = true;
        foreach (var socket in open.Keys)
        {
            socket.Dispose();
        }
    }

    public void Restore() => cut = false;

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        Cut();
        await accepting;
        stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            if (cut)
            {
                client.Dispose();
                continue;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            try
            {
                await server.ConnectAsync(targetHost, targetPort, stopping.Token);
                open[client] = 0;
                open[server] = 0;
                await using var clientStream = new NetworkStream(client, ownsSocket: false);
                await using var serverStream = new NetworkStream(server, ownsSocket: false);
                var copies = new[] { clientStream.CopyToAsync(serverStream, stopping.Token), serverStream.CopyToAsync(clientStream, stopping.Token) };
                // Either direction ending (or a Cut disposing the sockets) ends the connection both ways.
                await Task.WhenAny(copies);
                client.Dispose();
                server.Dispose();
                await Task.WhenAll(copies);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
                // the connection is over either way
            }
            finally
            {
                open.TryRemove(client, out _);
                open.TryRemove(server, out _);
            }
        }
    }
}
