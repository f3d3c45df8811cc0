using Microsoft.Extensions.Logging;

namespace Platform.Hosting.Logging;

public static class LoggingExtensions
{
    /// <summary>
    /// One JSON object per line on stdout (what log collectors in a cluster expect), in UTC, with the
    /// W3C trace and span ids of the current request in every entry's scopes.
    /// </summary>
    public static ILoggingBuilder AddPlatformJsonConsole(this ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.Configure(options => options.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        logging.AddJsonConsole(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            options.JsonWriterOptions = new() { Indented = false };
        });
        return logging;
    }
}
