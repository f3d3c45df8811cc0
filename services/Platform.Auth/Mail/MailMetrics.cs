using System.Diagnostics.Metrics;

namespace Platform.Auth.Mail;

/// <summary>
/// The mail outbox's instruments on auth's meter, exported as <c>auth_mail_sent_total</c>,
/// <c>auth_mail_send_failures_total</c> and <c>auth_mail_pending</c>. The pending gauge reports the sender's last
/// count, so a scrape never queries the database; it keeps growing while no relay accepts mail (or none is configured).
/// </summary>
public sealed class MailMetrics
{
    private readonly Counter<long> sent;
    private readonly Counter<long> failures;
    private long pending = -1;

    public MailMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(AuthMetrics.MeterName);
        sent = meter.CreateCounter<long>("auth.mail.sent", "{mail}", "Mails an SMTP relay accepted.");
        failures = meter.CreateCounter<long>("auth.mail.send_failures", "{mail}", "Attempts to send a mail that failed; the mail stays in the outbox and is retried.");
        meter.CreateObservableGauge("auth.mail.pending", ObservePending, "{mail}", "Mails in the outbox, not yet accepted by a relay.");
    }

    public void Sent(int count) => sent.Add(count);

    public void Failed(int count) => failures.Add(count);

    public void SetPending(long count) => Volatile.Write(ref pending, count);

    /// <summary>Nothing until the first count: a made-up zero would look like an empty outbox.</summary>
    private IEnumerable<Measurement<long>> ObservePending()
    {
        var count = Volatile.Read(ref pending);
        return count < 0 ? [] : [new Measurement<long>(count)];
    }
}
