namespace Platform.Auth.Mail;

/// <summary>
/// Tells this replica's <see cref="MailSender"/> that a mail was committed, so it goes out at once instead of at the
/// next poll. Mail committed by another replica waits for that replica's wake-up or for this one's poll.
/// </summary>
public sealed class MailWakeup : IDisposable
{
    private readonly SemaphoreSlim signal = new(0, 1);

    public void Notify()
    {
        if (signal.CurrentCount == 0)
        {
            try
            {
                signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another caller signalled between the check and the release: one wake-up is enough.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => signal.Dispose();
}
