using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Contracts.Events;
using Platform.Hosting.Problems;
using Platform.Testing;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class PasswordResetTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private const string ResetSubject = "Reset your password";
    private const string NewPassword = "another-Horse-battery-7";
    private const string PublicUrl = "https://platform.example.org";
    private AuthHost host = null!;
    private AdminClient clients = null!;
    private EventQueue events = null!;

    public async Task InitializeAsync()
    {
        events = await EventQueue.StartAsync(fixture.Tier);
        host = await StartHostAsync("auth_password_reset");
        clients = new AdminClient(host, new AuthApiClient(host.CreateRealClient()));
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await events.DisposeAsync();
    }

    [Fact]
    public async Task The_mailed_link_sets_a_new_password_once_and_ends_every_session()
    {
        var user = await clients.NewUserAsync();
        var other = await clients.Api.LoginOkAsync(user.Email);

        using (var requested = await RequestResetAsync(user.Email.ToUpperInvariant()))
        {
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        }
        var mail = Assert.Single(await fixture.Mail.Mailbox.WaitForAsync(user.Email, ResetSubject));
        Assert.StartsWith(PublicUrl + "/reset-password?token=", mail.TextBody!.Split('\n').Single(line => line.StartsWith("http", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(mail.MessageId));
        var token = MailLinks.TokenOf(mail, "reset-password");

        using (var reset = await ResetAsync(token, NewPassword))
        {
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        }
        foreach (var session in new[] { user.Tokens, other })
        {
            await Poll.UntilAsync(async () =>
            {
                using var me = await clients.Api.SendAsync(HttpMethod.Get, "/api/auth/me", session.AccessToken);
                return me.StatusCode == HttpStatusCode.Unauthorized;
            }, TimeSpan.FromSeconds(5), "the old access token to be refused");
        }
        using (var oldPassword = await clients.Api.LoginAsync(user.Email))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, oldPassword.StatusCode);
        }
        await clients.Api.LoginOkAsync(user.Email, NewPassword);
        using (var again = await ResetAsync(token, "yet-another-Horse-3"))
        {
            await AuthApiClient.ProblemAsync(again, HttpStatusCode.BadRequest, AuthProblems.InvalidResetTokenType);
        }

        var received = await events.SettledAboutAsync(user.Id, got => got.Any(e => e.Type == EventTypes.UserPasswordChanged) && got.Any(e => e.Type == EventTypes.UserEmailVerified));
        var changed = Assert.Single(received, e => e.Type == EventTypes.UserPasswordChanged);
        Assert.Equal("reset", changed.Data.GetProperty("via").GetString());
        Assert.Equal(JsonValueKind.Null, changed.Data.GetProperty("sessionId").ValueKind);
        Assert.Single(received, e => e.Type == EventTypes.UserEmailVerified);
        var ended = Assert.Single(received, e => e.Type == EventTypes.SessionsBulkTerminated && e.Data.GetProperty("reason").GetString() == "password-reset");
        Assert.Equal(2, ended.Data.GetProperty("count").GetInt32());
        Assert.DoesNotContain(token, string.Join('\n', received.Select(e => e.Data.GetRawText())), StringComparison.Ordinal);
    }

    /// <summary>
    /// The same answer after the same work: each request's database commands are counted by its trace (the request
    /// carries a traceparent; Npgsql's activities are children of the server's request activity), and must be the
    /// same for an address with an account and one without. Timings said this less surely: their medians differed by
    /// 3× once on a busy machine, with the same commands.
    /// </summary>
    [Fact]
    public async Task An_unknown_address_gets_the_same_answer_after_the_same_work_and_no_mail()
    {
        var (email, _) = await clients.Api.NewUserAsync();
        var stranger = AuthApiClient.NewEmail();

        var (knownCommands, knownBody) = await CountedRequestAsync(email);
        var (unknownCommands, unknownBody) = await CountedRequestAsync(stranger);

        Assert.Equal(knownBody, unknownBody);
        Assert.NotEmpty(knownCommands);
        Assert.Equal(knownCommands, unknownCommands);
        await fixture.Mail.Mailbox.WaitForAsync(email, ResetSubject);
        Assert.Empty(fixture.Mail.Mailbox.To(stranger));
    }

    [Fact]
    public async Task An_expired_link_is_refused()
    {
        await using var shortLived = await StartHostAsync("auth_password_reset_expiry", new() { ["Accounts:PasswordResetTokenLifetime"] = "00:00:01" });
        var api = new AuthApiClient(shortLived.CreateRealClient());
        var (email, _) = await api.NewUserAsync();
        using (var requested = await api.Http.PostAsJsonAsync("/api/auth/password/reset-request", new { email }))
        {
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        }
        var token = MailLinks.TokenOf((await fixture.Mail.Mailbox.WaitForAsync(email, ResetSubject))[0], "reset-password");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the lifetime itself is what is tested
        using var reset = await api.Http.PostAsJsonAsync("/api/auth/password/reset", new { token, newPassword = NewPassword });
        await AuthApiClient.ProblemAsync(reset, HttpStatusCode.BadRequest, AuthProblems.InvalidResetTokenType);
        await api.LoginOkAsync(email);
    }

    [Fact]
    public async Task Bad_input_is_refused_with_problem_details()
    {
        using (var noEmail = await clients.Api.Http.PostAsJsonAsync("/api/auth/password/reset-request", new { }))
        {
            await AuthApiClient.ProblemAsync(noEmail, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        }
        using (var notAnAddress = await RequestResetAsync("not an address"))
        {
            await AuthApiClient.ProblemAsync(notAnAddress, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        }
        using (var unknownToken = await ResetAsync(new string('A', 43), NewPassword))
        {
            await AuthApiClient.ProblemAsync(unknownToken, HttpStatusCode.BadRequest, AuthProblems.InvalidResetTokenType);
        }
        using (var garbageToken = await ResetAsync("\u0000<script>", NewPassword))
        {
            await AuthApiClient.ProblemAsync(garbageToken, HttpStatusCode.BadRequest, AuthProblems.InvalidResetTokenType);
        }
        using (var weak = await ResetAsync(new string('A', 43), "short"))
        {
            await AuthApiClient.ProblemAsync(weak, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        }
        using var notJson = await clients.Api.Http.PostAsync("/api/auth/password/reset", new StringContent("{", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Equal("application/problem+json", notJson.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task One_address_gets_at_most_three_reset_mails_per_window()
    {
        var (email, _) = await clients.Api.NewUserAsync();
        for (var i = 0; i < 5; i++)
        {
            using var requested = await RequestResetAsync(email);
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        }
        await fixture.Mail.Mailbox.WaitForAsync(email, ResetSubject, count: 3);
        await Poll.UntilAsync(() => host.QueryAsync(db => db.MailOutbox.AnyAsync()).ContinueWith(t => !t.Result, TaskScheduler.Default),
            TimeSpan.FromSeconds(10), "the mail outbox to be empty");
        Assert.Equal(3, fixture.Mail.Mailbox.To(email, ResetSubject).Count);
    }

    [Fact]
    public async Task Mail_sent_while_the_SMTP_server_is_down_arrives_exactly_once_when_it_is_back()
    {
        var (email, _) = await clients.Api.NewUserAsync();
        var failuresBefore = await Scrape.ValueAsync(clients.Api.Http, "auth_mail_send_failures_total");
        await fixture.Mail.DownAsync();
        try
        {
            using var requested = await RequestResetAsync(email);
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
            await Poll.UntilAsync(() => host.QueryAsync(db => db.MailOutbox.AnyAsync(m => m.Attempts >= 2)), TimeSpan.FromSeconds(15), "two failed attempts");
        }
        finally
        {
            await fixture.Mail.UpAsync();
        }
        var mail = Assert.Single(await fixture.Mail.Mailbox.WaitForAsync(email, ResetSubject));
        await Poll.UntilAsync(() => host.QueryAsync(db => db.MailOutbox.AnyAsync()).ContinueWith(t => !t.Result, TaskScheduler.Default),
            TimeSpan.FromSeconds(10), "the mail outbox to be empty");
        await Task.Delay(TimeSpan.FromSeconds(1)); // a second delivery, if any, follows right behind the first
        Assert.Equal([mail.MessageId], fixture.Mail.Mailbox.To(email, ResetSubject).Select(m => m.MessageId));
        Assert.True(await Scrape.ValueAsync(clients.Api.Http, "auth_mail_send_failures_total") >= failuresBefore + 2);
        Assert.True(await Scrape.ValueAsync(clients.Api.Http, "auth_mail_sent_total") >= 1);
        await Poll.UntilAsync(async () => await Scrape.ValueAsync(clients.Api.Http, "auth_mail_pending") == 0, TimeSpan.FromSeconds(10), "auth_mail_pending to be 0");
    }

    /// <summary>
    /// A login that checked the old password while the reset ran must not leave a session the reset did not end. The
    /// test holds the user's row so that the login (its password checked) and then the reset queue behind it; whichever
    /// the row goes to first, no session is live once both are done. Before the fix the login added its session
    /// without waiting for anything, after the reset had ended every session there was.
    /// </summary>
    [Fact]
    public async Task A_login_that_checked_the_old_password_while_a_reset_ran_leaves_no_live_session()
    {
        var user = await clients.NewUserAsync();
        using (var requested = await RequestResetAsync(user.Email))
        {
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        }
        var token = MailLinks.TokenOf(Assert.Single(await fixture.Mail.Mailbox.WaitForAsync(user.Email, ResetSubject)), "reset-password");

        Task<HttpResponseMessage> login, resetting;
        await using (var hold = await UserRowHold.TakeAsync(host, user.Id))
        {
            login = clients.Api.LoginAsync(user.Email);
            await hold.WaitForWaitersAsync(1, "the login, its password checked, to wait for the user's row");
            resetting = ResetAsync(token, NewPassword);
            await hold.WaitForWaitersAsync(2, "the reset to wait for the user's row too");
        }

        using (var reset = await resetting)
        using (var loggedIn = await login)
        {
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
            if (loggedIn.StatusCode == HttpStatusCode.OK)
            {
                // The login took the row first: the reset that came after ended its session.
                var tokens = (await loggedIn.Content.ReadFromJsonAsync<Tokens>())!;
                using var refreshed = await clients.Api.RefreshAsync(tokens.RefreshToken);
                Assert.Equal(HttpStatusCode.Unauthorized, refreshed.StatusCode);
            }
            else
            {
                await AuthApiClient.ProblemAsync(loggedIn, HttpStatusCode.Unauthorized, AuthProblems.InvalidCredentials);
            }
        }
        Assert.Equal(0, await host.QueryAsync(db => db.Sessions.CountAsync(s => s.UserId == user.Id && s.RevokedAt == null)));
        await clients.Api.LoginOkAsync(user.Email, NewPassword);
    }

    private Task<AuthHost> StartHostAsync(string database, Dictionary<string, string?>? more = null)
    {
        var settings = fixture.Mail.AuthSettings();
        settings["Accounts:PublicUrl"] = PublicUrl;
        settings["Mail:RetryBaseDelay"] = "00:00:00.200";
        settings["Mail:MaxRetryDelay"] = "00:00:00.500";
        settings["Mail:PollInterval"] = "00:00:00.200";
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }
        return AuthHost.StartAsync(fixture.Tier, database, overrides: settings);
    }

    private Task<HttpResponseMessage> RequestResetAsync(string email) =>
        clients.Api.Http.PostAsJsonAsync("/api/auth/password/reset-request", new { email });

    private Task<HttpResponseMessage> ResetAsync(string token, string newPassword) =>
        clients.Api.Http.PostAsJsonAsync("/api/auth/password/reset", new { token, newPassword });

    /// <summary>A reset request and the database commands it ran (its own only, picked out by trace id), by their SQL.</summary>
    private async Task<(List<string> Commands, string Body)> CountedRequestAsync(string email)
    {
        var traceId = ActivityTraceId.CreateRandom();
        var commands = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Npgsql" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == "Npgsql" && activity.TraceId == traceId)
                {
                    commands.Enqueue(activity.GetTagItem("db.query.text") as string ?? activity.GetTagItem("db.statement") as string ?? activity.DisplayName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/password/reset-request") { Content = JsonContent.Create(new { email }) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await clients.Api.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return ([.. commands.Order(StringComparer.Ordinal)], await response.Content.ReadAsStringAsync());
    }
}
