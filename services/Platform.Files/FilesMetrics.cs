using System.Diagnostics.Metrics;

namespace Platform.Files;

/// <summary>The files service's own instruments (docs/architecture.md §10.2), exported as files_* by the service defaults.</summary>
public sealed class FilesMetrics
{
    public const string MeterName = "Platform.Files";

    private readonly Counter<long> uploadedBytes;
    private readonly Counter<long> downloadedBytes;
    private readonly Counter<long> uploads;
    private readonly Histogram<double> uploadDuration;

    public FilesMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        uploadedBytes = meter.CreateCounter<long>("files.uploaded_bytes", "By", "Bytes of files stored by completed uploads.");
        downloadedBytes = meter.CreateCounter<long>("files.downloaded_bytes", "By", "Bytes of file content sent to clients.");
        uploads = meter.CreateCounter<long>("files.uploads", "{upload}", "Uploads by result: stored, too_large, quota_exceeded, owner_deleted, busy, invalid, failed.");
        uploadDuration = meter.CreateHistogram("files.upload.duration", "s", "Time from the start of an upload to its answer, by result.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] });
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
}
