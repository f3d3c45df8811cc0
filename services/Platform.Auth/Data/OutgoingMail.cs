namespace Platform.Auth.Data;

/// <summary>
/// A mail waiting in the mail outbox (<c>mail_outbox</c>), written in the transaction of what it announces and
/// deleted once an SMTP server accepted it (<see cref="Mail.MailSender"/>).
/// </summary>
public sealed class OutgoingMail
{
    public Guid Id { get; set; }

    /// <summary>The <c>Message-Id</c> header, the same on every attempt, so a mail delivered twice is recognisable.</summary>
    public string MessageId { get; set; } = "";

    public string Recipient { get; set; } = "";

    public string Subject { get; set; } = "";

    public string TextBody { get; set; } = "";

    public string HtmlBody { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }

    public string? LastError { get; set; }
}
