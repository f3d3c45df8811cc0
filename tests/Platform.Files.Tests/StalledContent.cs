using System.Net;

namespace Platform.Files.Tests;

/// <summary>
/// An upload body that sends its first <c>head</c> bytes and then waits: <see cref="Release"/> sends the last byte and
/// ends it; <see cref="Abandon"/> fails it, as a client that gives up midway.
/// </summary>
internal sealed class StalledContent(int head) : HttpContent
{
    private readonly TaskCompletionSource<bool> resume = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => resume.TrySetResult(true);

    public void Abandon() => resume.TrySetResult(false);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(new byte[head]);
        await stream.FlushAsync();
        Stalled.TrySetResult();
        if (!await resume.Task)
        {
            throw new IOException("The client gave up.");
        }
        await stream.WriteAsync(new byte[] { 1 });
    }

    protected override bool TryComputeLength(out long length)
    {
        length = head + 1;
        return true;
    }
}
