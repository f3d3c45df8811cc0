using Platform.Hosting.Problems;

namespace Platform.Files.Storage;

/// <summary>
/// The content directory refused a write: no space left, a quota, a read-only or failing volume, or one the pod may not
/// write to (ownership, NFS root squash). An <see cref="IOException"/> like the request body's own failures, so it is
/// wrapped where the write is made, to tell the store's fault (503, logged) from the client's (a malformed or cut-off
/// body, 400).
/// </summary>
public sealed class ContentStoreException(Exception inner)
    : IOException($"The content directory refused a write: {inner.Message}", inner)
{
    /// <summary>Runs a write to the content directory, wrapping its I/O failure.</summary>
    public static void Wrap(Action write) => Wrap(() =>
    {
        write();
        return true;
    });

    /// <inheritdoc cref="Wrap(Action)"/>
    public static T Wrap<T>(Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is (IOException and not ContentStoreException) or UnauthorizedAccessException)
        {
            throw new ContentStoreException(e);
        }
    }
}

/// <summary>A write the content directory refused is the store's outage: 503 with Retry-After, not a 500.</summary>
internal sealed class ContentStoreOutages : IOutageClassifier
{
    public Outage? Classify(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is ContentStoreException)
            {
                return new Outage("The file store cannot take the upload now.", "Its volume is full or failing.");
            }
        }
        return null;
    }
}
