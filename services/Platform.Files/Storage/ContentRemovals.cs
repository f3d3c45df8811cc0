using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Files.Data;
using Platform.Hosting.Hosting;

namespace Platform.Files.Storage;

/// <summary>
/// Unlinks content-directory files that no row refers to any more, from the queue in <c>content_removals</c>: the
/// content of deleted files, <see cref="FilesOptions.ContentRemovalDelaySeconds"/> after the delete, and the files of
/// uploads that never committed (their process died), once their lease is due. Every pod runs it; a batch locks its
/// rows with SKIP LOCKED, so pods share the queue instead of racing, and a row leaves the queue only in the
/// transaction that saw its file unlinked.
/// </summary>
public sealed partial class ContentRemovals(FileDataSources sources, ContentDirectory directory, IOptions<FilesOptions> options, FilesMetrics metrics, TimeProvider clock, ILogger<ContentRemovals> logger)
    : BackgroundLoop
{
    /// <summary>
    /// How long an upload may take before its content counts as abandoned, renewed while the file is still being
    /// written to: a live upload fills and writes its 512,000-byte buffer at least every ~36 minutes (Kestrel's minimum
    /// body rate, 240 bytes/s), so a file last written an hour ago belongs to an upload that is gone.
    /// </summary>
    public static readonly TimeSpan UploadLease = TimeSpan.FromHours(1);

    private const int BatchSize = 500;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        metrics.DeclareContentRemovals();
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                while (await RemoveDueAsync(stoppingToken) == BatchSize)
                {
                }
            }
            catch (Exception e) when (e is NpgsqlException or IOException or UnauthorizedAccessException or TimeoutException)
            {
                metrics.ContentRemovalFailed();
                LogFailed(logger, e, Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// One batch of due removals; returns how many queue rows it took (removed, or renewed for an hour: an upload's file
    /// still being written, or a file the filesystem would not remove).
    /// </summary>
    public async Task<int> RemoveDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await sources.Writes.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var removed = new List<Guid>();
        var renewed = new List<Guid>();
        var failed = 0;
        await using (var due = new NpgsqlCommand(
            "SELECT file_id, kind FROM content_removals WHERE due_at <= now() - make_interval(secs => $1) ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            connection, transaction))
        {
            due.Parameters.Add(new() { Value = (double)options.Value.ContentRemovalDelaySeconds });
            due.Parameters.Add(new() { Value = BatchSize });
            await using var reader = await due.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                if (reader.GetString(1) == "upload" && directory.LastWritten(id) is { } written && clock.GetUtcNow() - written < UploadLease)
                {
                    renewed.Add(id);
                    continue;
                }
                try
                {
                    directory.Delete(id);
                    removed.Add(id);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Tried again in an hour; the rest of the batch goes on, so one file cannot hold up the queue.
                    LogNotRemoved(logger, e, id, UploadLease);
                    renewed.Add(id);
                    failed++;
                }
            }
        }
        await using var settle = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("DELETE FROM content_removals WHERE file_id = ANY($1)") { Parameters = { new() { Value = removed.ToArray() } } },
                new NpgsqlBatchCommand("UPDATE content_removals SET due_at = $2 WHERE file_id = ANY($1)")
                {
                    Parameters = { new() { Value = renewed.ToArray() }, new() { Value = clock.GetUtcNow() + UploadLease } },
                },
            },
        };
        await settle.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        metrics.ContentRemovals(removed.Count, renewed.Count - failed, failed);
        if (removed.Count > 0)
        {
            LogRemoved(logger, removed.Count);
        }
        return removed.Count + renewed.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed the content of {Count} deleted or abandoned files from the content directory")]
    private static partial void LogRemoved(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The content of file {FileId} could not be removed from the content directory; trying again in {Delay}")]
    private static partial void LogNotRemoved(ILogger logger, Exception exception, Guid fileId, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing content from the content directory failed; trying again in {Interval}")]
    private static partial void LogFailed(ILogger logger, Exception exception, TimeSpan interval);
}
