using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Auth.Data;
using Platform.Auth.Passwords;
using Platform.Auth.Tokens;
using Platform.Contracts.Events;
using Platform.Hosting.Problems;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class PasswordChangeTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private const string NewPassword = "another-Horse-battery-7";
    private const string ChangeWaits = "the change, its current password checked, to wait for the user's row";
    private AuthHost host = null!;
    private AdminClient clients = null!;
    private EventQueue events = null!;

    public async Task InitializeAsync()
    {
        events = await EventQueue.StartAsync(fixture.Tier);
        host = await AuthHost.StartAsync(fixture.Tier, "auth_password_change");
        clients = new AdminClient(host, new AuthApiClient(host.CreateRealClient()));
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await events.DisposeAsync();
    }

    [Fact]
    public async Task Changing_the_password_needs_the_current_one_ends_the_other_sessions_and_keeps_the_callers()
    {
        var user = await clients.NewUserAsync();
        var other = await clients.Api.LoginOkAsync(user.Email);

        using (var wrong = await ChangeAsync(user.Tokens, "not-the-Password-1", NewPassword))
        {
            await AuthApiClient.ProblemAsync(wrong, HttpStatusCode.Forbidden, AuthProblems.WrongPasswordType);
        }
        using (var weak = await ChangeAsync(user.Tokens, AuthApiClient.GoodPassword, "short"))
        {
            await AuthApiClient.ProblemAsync(weak, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        }
        using (var changed = await ChangeAsync(user.Tokens, AuthApiClient.GoodPassword, NewPassword))
        {
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }

        using (var mine = await clients.Api.SendAsync(HttpMethod.Get, "/api/auth/me", user.Tokens.AccessToken))
        {
            Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        }
        using (var theirs = await clients.Api.SendAsync(HttpMethod.Get, "/api/auth/me", other.AccessToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, theirs.StatusCode);
        }
        using (var oldPassword = await clients.Api.LoginAsync(user.Email))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, oldPassword.StatusCode);
        }
        await clients.Api.LoginOkAsync(user.Email, NewPassword);
        var received = await events.SettledAboutAsync(user.Id, got => got.Any(e => e.Type == EventTypes.UserPasswordChanged));
        var changedEvent = Assert.Single(received, e => e.Type == EventTypes.UserPasswordChanged);
        Assert.Equal(AdminClient.SessionIdOf(user.Tokens), changedEvent.Data.GetProperty("sessionId").GetGuid());
        var ended = Assert.Single(received, e => e.Type == EventTypes.SessionsBulkTerminated && e.Data.GetProperty("reason").GetString() == "password-changed");
        Assert.Equal([AdminClient.SessionIdOf(other)], ended.Data.GetProperty("sessionIds").EnumerateArray().Select(s => s.GetGuid()));
    }

    /// <summary>
    /// A change whose current password was checked against a hash that another change or a reset replaced meanwhile
    /// loses with 409 rather than overwrite the newer password; one that wins spends the reset links mailed before it.
    /// The test holds the user's row, lets the change check the password and queue behind it, then changes the hash.
    /// </summary>
    [Fact]
    public async Task A_change_that_raced_another_loses_and_a_change_spends_the_reset_links()
    {
        var user = await clients.NewUserAsync();
        using (var lost = await UserRowHold.WhileTheHashIsReplacedAsync(host, user.Id, "set-by-a-reset",
            () => ChangeAsync(user.Tokens, AuthApiClient.GoodPassword, NewPassword), ChangeWaits))
        {
            await AuthApiClient.ProblemAsync(lost, HttpStatusCode.Conflict, ProblemTypes.Conflict);
        }
        Assert.Equal("set-by-a-reset", await host.QueryAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.PasswordHash).SingleAsync()));

        var other = await clients.NewUserAsync();
        var link = await host.QueryAsync(async db =>
        {
            var (token, hash) = OpaqueTokens.Create();
            db.AccountTokens.Add(new AccountToken { Hash = hash, UserId = other.Id, Purpose = AccountToken.PasswordReset, CreatedAt = DateTimeOffset.UtcNow, ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(30) });
            await db.SaveChangesAsync();
            return token;
        });
        using (var changed = await ChangeAsync(other.Tokens, AuthApiClient.GoodPassword, NewPassword))
        {
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }
        using (var reset = await clients.Api.Http.PostAsJsonAsync("/api/auth/password/reset", new { token = link, newPassword = "yet-another-Horse-3" }))
        {
            await AuthApiClient.ProblemAsync(reset, HttpStatusCode.BadRequest, AuthProblems.InvalidResetTokenType);
        }
        await clients.Api.LoginOkAsync(other.Email, NewPassword);
    }

    /// <summary>
    /// A login's rehash at a raised cost replaces the hash a change checked the current password against, but not the
    /// password: the change rechecks it against the new hash and goes on (it answered 409 before).
    /// </summary>
    [Fact]
    public async Task A_change_that_raced_a_logins_rehash_goes_on()
    {
        var user = await clients.NewUserAsync();
        var rehashed = await host.Services.GetRequiredService<PasswordHasher>().HashAsync(AuthApiClient.GoodPassword, CancellationToken.None);
        using (var changed = await UserRowHold.WhileTheHashIsReplacedAsync(host, user.Id, rehashed!,
            () => ChangeAsync(user.Tokens, AuthApiClient.GoodPassword, NewPassword), ChangeWaits))
        {
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }
        await clients.Api.LoginOkAsync(user.Email, NewPassword);
    }

    private async Task<HttpResponseMessage> ChangeAsync(Tokens caller, string currentPassword, string newPassword)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/password") { Content = JsonContent.Create(new { currentPassword, newPassword }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.AccessToken);
        return await clients.Api.Http.SendAsync(request);
    }
}
