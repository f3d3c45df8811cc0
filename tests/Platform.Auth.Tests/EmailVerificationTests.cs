using System.Net;
using System.Net.Http.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Contracts.Events;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class EmailVerificationTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private const string VerifySubject = "Confirm your e-mail address";
    private AuthHost host = null!;
    private AdminClient clients = null!;
    private EventQueue events = null!;

    public async Task InitializeAsync()
    {
        events = await EventQueue.StartAsync(fixture.Tier);
        host = await StartHostAsync("auth_email_verification", requireVerified: false);
        clients = new AdminClient(host, new AuthApiClient(host.CreateRealClient()));
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await events.DisposeAsync();
    }

    [Fact]
    public async Task Registration_mails_a_link_that_verifies_the_address_once()
    {
        var user = await clients.NewUserAsync();
        Assert.False(EmailVerifiedClaim(user.Tokens));
        var token = MailLinks.TokenOf((await fixture.Mail.Mailbox.WaitForAsync(user.Email, VerifySubject))[0], "verify-email");

        using (var verified = await VerifyAsync(token))
        {
            Assert.Equal(HttpStatusCode.NoContent, verified.StatusCode);
        }
        using (var again = await VerifyAsync(token))
        {
            await AuthApiClient.ProblemAsync(again, HttpStatusCode.BadRequest, AuthProblems.InvalidVerificationTokenType);
        }
        var me = await clients.OkAsync(HttpMethod.Get, "/api/auth/me", user.Tokens);
        Assert.True(me.GetProperty("emailVerified").GetBoolean());
        using var refreshed = await clients.Api.RefreshAsync(user.Tokens.RefreshToken);
        Assert.True(EmailVerifiedClaim((await refreshed.Content.ReadFromJsonAsync<Tokens>())!));

        var received = await events.SettledAboutAsync(user.Id, got => got.Any(e => e.Type == EventTypes.UserEmailVerified));
        var verifiedEvent = Assert.Single(received, e => e.Type == EventTypes.UserEmailVerified);
        Assert.Equal(["userId"], verifiedEvent.Data.EnumerateObject().Select(p => p.Name)); // nothing but whose address it was
    }

    [Fact]
    public async Task A_new_link_can_be_asked_for_until_the_address_is_verified()
    {
        var user = await clients.NewUserAsync();
        await fixture.Mail.Mailbox.WaitForAsync(user.Email, VerifySubject);
        using (var requested = await clients.SendAsync(HttpMethod.Post, "/api/auth/email/verify-request", user.Tokens))
        {
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        }
        var mails = await fixture.Mail.Mailbox.WaitForAsync(user.Email, VerifySubject, count: 2);
        using (var verified = await VerifyAsync(MailLinks.TokenOf(mails[1], "verify-email")))
        {
            Assert.Equal(HttpStatusCode.NoContent, verified.StatusCode);
        }
        using var already = await clients.SendAsync(HttpMethod.Post, "/api/auth/email/verify-request", user.Tokens);
        await AuthApiClient.ProblemAsync(already, HttpStatusCode.Conflict, AuthProblems.EmailAlreadyVerifiedType);
        using var anonymous = await clients.Api.Http.PostAsync("/api/auth/email/verify-request", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task A_deployment_that_requires_verified_addresses_refuses_login_until_then()
    {
        await using var strict = await StartHostAsync("auth_email_required", requireVerified: true);
        var api = new AuthApiClient(strict.CreateRealClient());
        var email = AuthApiClient.NewEmail();
        using (var registered = await api.RegisterAsync(email))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }
        using (var refused = await api.LoginAsync(email))
        {
            await AuthApiClient.ProblemAsync(refused, HttpStatusCode.Forbidden, AuthProblems.EmailNotVerifiedType);
        }
        using (var wrongPassword = await api.LoginAsync(email, "not-the-Password-1"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode); // the 403 tells only someone who knows the password
        }
        var token = MailLinks.TokenOf((await fixture.Mail.Mailbox.WaitForAsync(email, VerifySubject))[0], "verify-email");
        using (var verified = await api.Http.PostAsJsonAsync("/api/auth/email/verify", new { token }))
        {
            Assert.Equal(HttpStatusCode.NoContent, verified.StatusCode);
        }
        Assert.True(EmailVerifiedClaim(await api.LoginOkAsync(email)));
    }

    /// <summary>
    /// A deletion holds the user's row, then its cascade takes the token rows. A verification that spent its token
    /// first and then waited for the user's row deadlocked with it (one of the two failed after a second); it now waits
    /// for the user's row before it touches the token, and finds the token gone with the account.
    /// </summary>
    [Fact]
    public async Task A_verification_racing_the_accounts_deletion_waits_for_it_and_finds_the_link_dead()
    {
        var user = await clients.NewUserAsync();
        var token = MailLinks.TokenOf((await fixture.Mail.Mailbox.WaitForAsync(user.Email, VerifySubject))[0], "verify-email");
        Task<HttpResponseMessage> verifying;
        await using (var hold = await UserRowHold.TakeAsync(host, user.Id))
        {
            verifying = VerifyAsync(token);
            await hold.WaitForWaitersAsync(1, "the verification to wait for the user's row");
            await hold.ExecuteAsync($"DELETE FROM users WHERE id = {user.Id}");
            await hold.CommitAsync();
        }

        using var verified = await verifying;

        await AuthApiClient.ProblemAsync(verified, HttpStatusCode.BadRequest, AuthProblems.InvalidVerificationTokenType);
    }

    [Fact]
    public async Task Bad_verification_input_is_refused_with_problem_details()
    {
        using (var missing = await clients.Api.Http.PostAsJsonAsync("/api/auth/email/verify", new { }))
        {
            await AuthApiClient.ProblemAsync(missing, HttpStatusCode.BadRequest, Platform.Hosting.Problems.ProblemTypes.Validation);
        }
        using var unknown = await VerifyAsync(new string('B', 43));
        await AuthApiClient.ProblemAsync(unknown, HttpStatusCode.BadRequest, AuthProblems.InvalidVerificationTokenType);
    }

    private Task<AuthHost> StartHostAsync(string database, bool requireVerified)
    {
        var settings = fixture.Mail.AuthSettings();
        settings["Accounts:RequireVerifiedEmail"] = requireVerified ? "true" : "false";
        settings["Mail:PollInterval"] = "00:00:00.200";
        return AuthHost.StartAsync(fixture.Tier, database, overrides: settings);
    }

    private Task<HttpResponseMessage> VerifyAsync(string token) => clients.Api.Http.PostAsJsonAsync("/api/auth/email/verify", new { token });

    private static bool EmailVerifiedClaim(Tokens tokens) =>
        new JsonWebToken(tokens.AccessToken).GetPayloadValue<bool>("email_verified");
}
