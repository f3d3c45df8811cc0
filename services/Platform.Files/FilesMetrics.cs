using System.Diagnostics.Metrics;

namespace Platform.Files;

/// <summary>The files service's own instruments (docs/architecture.md §10.2), exported as files_* by the service defaults.</summary>
public sealed class FilesMetrics
{
    public const string MeterName = "Platform.Files";

    private readonly Counter<long> uploadedBytes;
    private readonly Counter<long> downloadedBytes;
    private readonly Counter<long> downloadsRefused;
    private readonly Counter<long> uploads;
    private readonly Histogram<double> uploadDuration;
    private readonly Counter<long> contentRemovals;
    private readonly Counter<long> contentRemovalFailures;

    public FilesMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        uploadedBytes = meter.CreateCounter<long>("files.uploaded_bytes", "By", "Bytes of files stored by completed uploads.");
        downloadedBytes = meter.CreateCounter<long>("files.downloaded_bytes", "By", "Bytes of file content sent to clients.");
        downloadsRefused = meter.CreateCounter<long>("files.downloads_refused", "{download}",
            "Downloads refused a slot, by reason: busy (503: every download slot of the pod, Files:MaxConcurrentDownloads, stayed taken for Files:MaxDownloadWaitSeconds), "
            + "user_limit (429: the user already had Files:MaxConcurrentDownloadsPerUser downloads being sent or waiting on the pod).");
        uploads = meter.CreateCounter<long>("files.uploads", "{upload}", "Uploads by result: stored, too_large, quota_exceeded, owner_deleted, busy, user_limit, invalid (also a body the server could not read: too slow, malformed), abandoned (the client went away midway), failed (an error of the service's own).");
        uploadDuration = meter.CreateHistogram("files.upload.duration", "s", "Time from the start of an upload to its answer, by result.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] });
        contentRemovals = meter.CreateCounter<long>("files.content_removals", "{file}",
            "Queued content-directory files handled by the removal pass, by result: removed, still_writing (an upload's file written within the hour, kept), failed (the filesystem refused; tried again in an hour).");
        contentRemovalFailures = meter.CreateCounter<long>("files.content_removal_failures", "{pass}",
            "Removal passes that failed as a whole (the database or the volume unreachable); the next runs 15 s later.");
    }

    public void Upload(string result, TimeSpan duration, long storedBytes)
    {
        var tag = new KeyValuePair<string, object?>("result", result);
        uploads.Add(1, tag);
        uploadDuration.Record(duration.TotalSeconds, tag);
        if (storedBytes > 0)
        {
            uploadedBytes.Add(storedBytes);
        }
    }

    public void Downloaded(int bytes) => downloadedBytes.Add(bytes);

    /// <summary>A download refused its slot: <paramref name="userAtLimit"/> for the user's share (429), otherwise the pod's slots (503).</summary>
    public void DownloadRefused(bool userAtLimit) => downloadsRefused.Add(1, DownloadRefusalReason(userAtLimit));

    /// <summary>The refusals' series, one per reason, at zero, once downloads are gated, so FilesDownloadsRefused sees the first refusal.</summary>
    public void DeclareDownloadRefusals()
    {
        downloadsRefused.Add(0, DownloadRefusalReason(userAtLimit: false));
        downloadsRefused.Add(0, DownloadRefusalReason(userAtLimit: true));
    }

    private static KeyValuePair<string, object?> DownloadRefusalReason(bool userAtLimit) => new("reason", userAtLimit ? "user_limit" : "busy");

    /// <summary>
    /// The removal pass's series, at zero, when a pod with a content directory starts: a counter whose series appears
    /// at 1 hides its first increase from <c>increase()</c>, and FilesContentNotRemoved must see the first refusal.
    /// </summary>
    public void DeclareContentRemovals()
    {
        ContentRemovals(0, 0, 0);
        contentRemovalFailures.Add(0);
    }

    /// <summary>One removal pass's files by result.</summary>
    public void ContentRemovals(int removed, int stillWriting, int failed)
    {
        contentRemovals.Add(removed, new KeyValuePair<string, object?>("result", "removed"));
        contentRemovals.Add(stillWriting, new KeyValuePair<string, object?>("result", "still_writing"));
        contentRemovals.Add(failed, new KeyValuePair<string, object?>("result", "failed"));
    }

    public void ContentRemovalFailed() => contentRemovalFailures.Add(1);
}
