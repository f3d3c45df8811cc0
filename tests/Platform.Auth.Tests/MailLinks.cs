using System.Text.RegularExpressions;
using MimeKit;

namespace Platform.Auth.Tests;

/// <summary>The token of a link in an account mail, read from the text part; the HTML part must carry the same link.</summary>
public static partial class MailLinks
{
    public static string TokenOf(MimeMessage mail, string page)
    {
        ArgumentNullException.ThrowIfNull(mail);
        var link = LinkPattern().Match(mail.TextBody ?? "");
        Assert.True(link.Success, $"no link in the text part: {mail.TextBody}");
        Assert.Equal(page, link.Groups["page"].Value);
        Assert.Contains(link.Value, mail.HtmlBody ?? "", StringComparison.Ordinal);
        return Uri.UnescapeDataString(link.Groups["token"].Value);
    }

    [GeneratedRegex(@"https?://[^\s/]+/(?<page>[a-z-]+)\?token=(?<token>[A-Za-z0-9_%-]+)")]
    private static partial Regex LinkPattern();
}
