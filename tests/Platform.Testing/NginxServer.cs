using System.Diagnostics;
using System.Net.Sockets;

namespace Platform.Testing;

/// <summary>
/// A real nginx (the Debian package's binary) in the foreground, as a single process, with its prefix, temp
/// directories, logs and pid file under a temporary directory of its own: nothing of the system's nginx is used.
/// The test writes the <c>http { … }</c> block; this class adds what makes nginx run unprivileged and in place.
/// </summary>
public sealed class NginxServer : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

    private readonly Process process;
    private readonly string directory;

    private NginxServer(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>A client for the port <see cref="StartAsync"/> waited for.</summary>
    public HttpClient Client { get; }

    /// <summary>The nginx binary, or null when it is not installed (apt-get install nginx-light).</summary>
    public static string? Binary { get; } = Candidates.FirstOrDefault(File.Exists);

    /// <summary>Starts nginx with <paramref name="httpBlock"/> and waits until <paramref name="port"/> accepts connections.</summary>
    public static async Task<NginxServer> StartAsync(string httpBlock, int port)
    {
        var binary = Binary ?? throw new InvalidOperationException("nginx is not installed");
        var directory = Directory.CreateTempSubdirectory("platform-nginx-").FullName;
        var temp = Path.Combine(directory, "temp");
        Directory.CreateDirectory(temp);
        var config = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            master_process off;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log info;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{temp}}/body;
                proxy_temp_path {{temp}}/proxy;
                fastcgi_temp_path {{temp}}/fastcgi;
                uwsgi_temp_path {{temp}}/uwsgi;
                scgi_temp_path {{temp}}/scgi;
            {{httpBlock}}
            }
            """);
        var start = new ProcessStartInfo(binary) { UseShellExecute = false };
        foreach (var argument in new[] { "-p", directory, "-c", config, "-e", Path.Combine(directory, "error.log") })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start");
        var server = new NginxServer(process, directory, port);
        try
        {
            await Poll.UntilAsync(async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"nginx exited with {process.ExitCode}: {await File.ReadAllTextAsync(Path.Combine(directory, "error.log"))}");
                }
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return true;
            }, TimeSpan.FromSeconds(10), $"nginx to listen on {port}");
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    public string ErrorLog => File.Exists(Path.Combine(directory, "error.log")) ? File.ReadAllText(Path.Combine(directory, "error.log")) : "";

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
        Directory.Delete(directory, recursive: true);
    }
}
