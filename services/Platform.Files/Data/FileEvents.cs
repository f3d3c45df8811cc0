namespace Platform.Files.Data;

/// <summary>What the files service puts in its events.</summary>
public static class FileEvents
{
    public const string Source = "files";

    public static string? CorrelationId() => System.Diagnostics.Activity.Current?.TraceId.ToString();
}
