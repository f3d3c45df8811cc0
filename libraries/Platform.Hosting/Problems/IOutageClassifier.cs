namespace Platform.Hosting.Problems;

/// <summary>
/// A dependency's way of telling its outages from bugs. The exception handler answers an exception that one of these
/// recognises with a 503 and Retry-After (the request may well succeed in a moment) and anything else with a 500, so
/// hosting knows no driver: each data library registers its own (Platform.Data: PostgreSQL unreachable, shutting down,
/// out of disk).
/// </summary>
public interface IOutageClassifier
{
    /// <summary>The outage <paramref name="exception"/>, or one it wraps, reports; null when it reports none.</summary>
    Outage? Classify(Exception exception);
}

/// <summary>A 503's title, and its cause when the client is told one; the handler adds when to try again.</summary>
public sealed record Outage(string Title, string? Cause = null);
