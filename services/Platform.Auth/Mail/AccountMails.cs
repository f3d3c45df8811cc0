using System.Net;
using System.Text.Encodings.Web;
using Microsoft.Extensions.Options;
using MimeKit;
using Platform.Auth.Data;

namespace Platform.Auth.Mail;

/// <summary>
/// The mails of the account lifecycle, each with a text and an HTML part and a link under the public URL
/// (<c>Accounts:PublicUrl</c>, else <c>Tokens:Issuer</c>). Only the mail carries the token; the database keeps its hash.
/// </summary>
public sealed class AccountMails(IOptions<AccountOptions> accounts, IOptions<TokenOptions> tokens, IOptions<MailOptions> mail, TimeProvider clock)
{
    public string PublicUrl => (string.IsNullOrWhiteSpace(accounts.Value.PublicUrl) ? tokens.Value.Issuer : accounts.Value.PublicUrl).TrimEnd('/');

    public OutgoingMail PasswordReset(string recipient, string token, TimeSpan lifetime) => Create(recipient,
        "Reset your password",
        $"{PublicUrl}/reset-password?token={Uri.EscapeDataString(token)}",
        "Someone — hopefully you — asked to reset the password of your account.",
        $"Choose a new password at this link within {Describe(lifetime)}; it works once. Every session of the account ends when the password changes.",
        "If you did not ask for this, ignore this mail: your password stays as it is.");

    public OutgoingMail EmailVerification(string recipient, string token, TimeSpan lifetime) => Create(recipient,
        "Confirm your e-mail address",
        $"{PublicUrl}/verify-email?token={Uri.EscapeDataString(token)}",
        "Please confirm that this is your e-mail address.",
        $"Open this link within {Describe(lifetime)}; it works once.",
        "If you did not create an account, ignore this mail.");

    private OutgoingMail Create(string recipient, string subject, string link, string opening, string instruction, string closing)
    {
        var now = clock.GetUtcNow();
        var id = Guid.CreateVersion7();
        var text = $"{opening}\n\n{instruction}\n\n{link}\n\n{closing}\n";
        var html = $"""
            <!DOCTYPE html>
            <html><body>
            <p>{WebUtility.HtmlEncode(opening)}</p>
            <p>{WebUtility.HtmlEncode(instruction)}</p>
            <p><a href="{HtmlEncoder.Default.Encode(link)}">{WebUtility.HtmlEncode(subject)}</a></p>
            <p>{WebUtility.HtmlEncode(closing)}</p>
            </body></html>
            """;
        return new OutgoingMail
        {
            Id = id,
            MessageId = $"{id:N}@{SenderDomain()}",
            Recipient = recipient,
            Subject = subject,
            TextBody = text,
            HtmlBody = html,
            CreatedAt = now,
            NextAttemptAt = now,
        };
    }

    private string SenderDomain() =>
        MailboxAddress.TryParse(mail.Value.From, out var from) && !string.IsNullOrEmpty(from.Domain) ? from.Domain : "platform.invalid";

    private static string Describe(TimeSpan lifetime) =>
        lifetime >= TimeSpan.FromHours(1) && lifetime.TotalHours == Math.Floor(lifetime.TotalHours) ? $"{lifetime.TotalHours:0} hours"
        : lifetime >= TimeSpan.FromMinutes(1) ? $"{Math.Ceiling(lifetime.TotalMinutes):0} minutes"
        : $"{Math.Ceiling(lifetime.TotalSeconds):0} seconds";
}
