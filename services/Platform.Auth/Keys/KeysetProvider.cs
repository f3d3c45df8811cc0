using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Platform.Contracts.Keys;

namespace Platform.Auth.Keys;

/// <summary>
/// Keeps the keyset file loaded. Kubernetes updates a mounted Secret by swapping a symlink, which file
/// watchers do not always report, so the file is also re-read on a short poll; a content hash makes an
/// unchanged file cost nothing. A file that does not parse leaves the last good keyset in place.
/// </summary>
public sealed partial class KeysetProvider : BackgroundService
{
    private readonly KeysOptions options;
    private readonly TimeProvider clock;
    private readonly ILogger<KeysetProvider> logger;
    private readonly SemaphoreSlim reloadSignal = new(0, 1);
    private readonly Lock reloading = new();
    private byte[] loadedHash = [];
    private volatile LoadedKeyset current = LoadedKeyset.Empty;

    public KeysetProvider(IOptions<KeysOptions> options, TimeProvider clock, ILogger<KeysetProvider> logger)
    {
        this.options = options.Value;
        this.clock = clock;
        this.logger = logger;
        Reload();
    }

    public LoadedKeyset Current => current;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var watcher = CreateWatcher();
        var interval = TimeSpan.FromSeconds(options.PollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await reloadSignal.WaitAsync(interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Reload();
        }
    }

    /// <summary>Re-reads the file now; returns whether the keyset changed.</summary>
    public bool Reload()
    {
        lock (reloading)
        {
            return ReloadUnderLock();
        }
    }

    private bool ReloadUnderLock()
    {
        var path = KeysetFile.PathIn(options.Directory);
        try
        {
            var bytes = File.ReadAllBytes(path);
            var hash = SHA256.HashData(bytes);
            if (hash.AsSpan().SequenceEqual(loadedHash))
            {
                return false;
            }
            var keyset = System.Text.Json.JsonSerializer.Deserialize<Keyset>(bytes, Keyset.JsonOptions)
                ?? throw new InvalidDataException("the file is empty");
            current = new LoadedKeyset(keyset.Version, keyset.Keys.Select(SigningKeyMaterial.From).ToList(), clock.GetUtcNow());
            loadedHash = hash;
            LogLoaded(logger, keyset.Version, keyset.Keys.Count, path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException or CryptographicException or FormatException or ArgumentException)
        {
            LogUnreadable(logger, e, path, current.Version);
            return false;
        }
    }

    private FileSystemWatcher? CreateWatcher()
    {
        if (!Directory.Exists(options.Directory))
        {
            return null;
        }
        var watcher = new FileSystemWatcher(options.Directory) { IncludeSubdirectories = false, EnableRaisingEvents = true };
        FileSystemEventHandler wake = (_, _) => Wake();
        watcher.Changed += wake;
        watcher.Created += wake;
        watcher.Renamed += (_, _) => Wake();
        return watcher;
    }

    private void Wake()
    {
        if (reloadSignal.CurrentCount == 0)
        {
            try
            {
                reloadSignal.Release();
            }
            catch (SemaphoreFullException)
            {
                // a reload is already pending
            }
        }
    }

    public override void Dispose()
    {
        reloadSignal.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded keyset version {Version} with {Count} keys from {Path}")]
    private static partial void LogLoaded(ILogger logger, long version, int count, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keyset file {Path} could not be loaded; keeping version {Version}")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string path, long version);
}
