using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

/// <summary>
/// Password reset and e-mail verification as a user goes through them: through the gateway (anonymous routes for
/// the links, a bearer route for asking again), with the mail delivered by auth's outbox to the SMTP server that
/// <c>make run</c> starts, and read from its maildir.
/// </summary>
[Collection(LocalPlatformCollection.Name)]
public sealed partial class AccountMailTests(EndToEndPlatform platform)
{
    [Fact]
    public async Task A_forgotten_password_is_reset_with_the_mailed_link_and_the_old_sessions_end_at_the_gateway()
    {
        var (http, _) = await platform.CheckedClientAsync();
        using var _ = http;
        var (email, oldToken) = await PlatformUser.SignUpAsync(http);

        using (var requested = await http.PostAsJsonAsync("/api/auth/password/reset-request", new { email }))
        {
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        }
        using (var stranger = await http.PostAsJsonAsync("/api/auth/password/reset-request", new { email = $"nobody-{Guid.NewGuid():N}@example.org" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, stranger.StatusCode);
        }
        var token = TokenOf((await platform.Mailbox.WaitForAsync(email, "Reset your password"))[0], "reset-password");
        using (var reset = await http.PostAsJsonAsync("/api/auth/password/reset", new { token, newPassword = "another-Horse-battery-7" }))
        {
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        }

        await Poll.UntilAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tasks");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", oldToken);
            using var response = await http.SendAsync(request);
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(5), "the gateway to refuse the session the reset ended");
        using (var reused = await http.PostAsJsonAsync("/api/auth/password/reset", new { token, newPassword = "yet-another-Horse-3" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, reused.StatusCode);
            Assert.Equal("https://platform.dev/problems/invalid-reset-token", (await reused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        }
        using var login = await http.PostAsJsonAsync("/api/auth/login", new { email, password = "another-Horse-battery-7" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var accessToken = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        Assert.True(new JsonWebToken(accessToken).GetPayloadValue<bool>("email_verified")); // the reset link proved the address
    }

    [Fact]
    public async Task The_registration_mail_verifies_the_address_and_new_tokens_say_so()
    {
        var (http, _) = await platform.CheckedClientAsync();
        using var _ = http;
        var (email, accessToken) = await PlatformUser.SignUpAsync(http);
        Assert.False(new JsonWebToken(accessToken).GetPayloadValue<bool>("email_verified"));
        using (var anonymous = await http.PostAsync("/api/auth/email/verify-request", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        var token = TokenOf((await platform.Mailbox.WaitForAsync(email, "Confirm your e-mail address"))[0], "verify-email");
        using (var verified = await http.PostAsJsonAsync("/api/auth/email/verify", new { token }))
        {
            Assert.Equal(HttpStatusCode.NoContent, verified.StatusCode);
        }
        using var login = await http.PostAsJsonAsync("/api/auth/login", new { email, password = PlatformUser.Password });
        var fresh = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        Assert.True(new JsonWebToken(fresh).GetPayloadValue<bool>("email_verified"));
        using var again = new HttpRequestMessage(HttpMethod.Post, "/api/auth/email/verify-request");
        again.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fresh);
        using var already = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.Conflict, already.StatusCode);
    }

    /// <summary>The link points at the platform's public address (make run: the gateway).</summary>
    private string TokenOf(MimeKit.MimeMessage mail, string page)
    {
        var link = LinkPattern().Match(mail.TextBody ?? "");
        Assert.True(link.Success, mail.TextBody);
        Assert.Equal($"{platform.Issuer}/{page}", link.Groups["page"].Value);
        Assert.Contains(link.Value, mail.HtmlBody ?? "", StringComparison.Ordinal);
        return Uri.UnescapeDataString(link.Groups["token"].Value);
    }

    [GeneratedRegex(@"(?<page>https?://[^\s?]+)\?token=(?<token>[A-Za-z0-9_%-]+)")]
    private static partial Regex LinkPattern();
}
