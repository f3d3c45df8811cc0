using System.ComponentModel.DataAnnotations;

namespace Platform.Auth.Mail;

public enum SmtpSecurity
{
    /// <summary>Plain connection upgraded with STARTTLS, which the server must offer (port 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    Tls,

    /// <summary>No encryption: only for a relay on the same host or network (the local test server).</summary>
    None,
}

/// <summary>Section "Mail": the SMTP relay auth delivers its mail outbox to. Without a <see cref="Host"/>, mail stays in the outbox.</summary>
public sealed class MailOptions
{
    public const string Section = "Mail";

    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    /// <summary>The sender, e.g. <c>Platform &lt;no-reply@example.org&gt;</c>; its domain also names the Message-Ids.</summary>
    [Required]
    public string From { get; set; } = "platform@localhost";

    /// <summary>With <see cref="Password"/>, authenticates to the relay; both come from a Secret in Kubernetes.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Mails sent per round (one SMTP connection); their rows stay locked meanwhile, so replicas send disjoint mails.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 20;

    /// <summary>How often the outbox is looked at without a local wake-up (mail enqueued by another replica, retries due).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A failed mail waits this long, doubling with every attempt up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
