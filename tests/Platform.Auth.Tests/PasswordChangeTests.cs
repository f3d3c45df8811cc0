using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Platform.Contracts.Events;
using Platform.Hosting.Problems;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class PasswordChangeTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private const string NewPassword = "another-Horse-battery-7";
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

    private async Task<HttpResponseMessage> ChangeAsync(Tokens caller, string currentPassword, string newPassword)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/password") { Content = JsonContent.Create(new { currentPassword, newPassword }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", caller.AccessToken);
        return await clients.Api.Http.SendAsync(request);
    }
}
