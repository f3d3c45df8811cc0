using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Auth.Accounts;
using Platform.Hosting.Problems;
using Platform.Testing;

namespace Platform.Auth.Tests;

[Collection(AuthTierCollection.Name)]
public sealed class AdminTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private static readonly string[] JustUser = ["user"];
    private static readonly string[] AdminAndAuditor = ["admin", "auditor"];
    private static readonly string[] NotARole = ["Not A Role"];

    private AuthHost host = null!;
    private AdminClient admin = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_admin");
        admin = new AdminClient(host, new AuthApiClient(host.CreateRealClient()));
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    /// <summary>
    /// A login whose password check ran while an admin took a role away must not issue the role: the demotion ended
    /// every session it saw, and the login's token is built from the user's row as it is when its session starts.
    /// The test holds the row so the login (its password checked) waits, takes "admin" away in the holding transaction
    /// and lets go. Before, the login issued the roles it had read before bcrypt.
    /// </summary>
    [Fact]
    public async Task A_login_racing_a_demotion_issues_the_roles_as_they_are_now()
    {
        var demoted = await admin.NewAdminAsync();
        Assert.Contains("admin", AdminClient.RolesOf(demoted.Tokens));
        Task<HttpResponseMessage> login;
        await using (var hold = await UserRowHold.TakeAsync(host, demoted.Id))
        {
            login = admin.Api.LoginAsync(demoted.Email);
            await hold.WaitForWaitersAsync(1, "the login, its password checked, to wait for the user's row");
            await hold.ExecuteAsync($"UPDATE users SET roles = ARRAY['user'] WHERE id = {demoted.Id}");
            await hold.CommitAsync();
        }
        using var response = await login;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JustUser, AdminClient.RolesOf((await response.Content.ReadFromJsonAsync<Tokens>())!));
    }

    [Fact]
    public async Task Access_tokens_carry_the_users_roles()
    {
        var user = await admin.NewUserAsync();
        var boss = await admin.NewAdminAsync();

        Assert.Equal(["user"], AdminClient.RolesOf(user.Tokens));
        Assert.Equal(["admin", "user"], AdminClient.RolesOf(boss.Tokens));
    }

    [Fact]
    public async Task Admin_routes_refuse_a_plain_user_with_403_problem_details_and_no_token_with_401()
    {
        var user = await admin.NewUserAsync();

        using var forbidden = await admin.SendAsync(HttpMethod.Get, "/api/admin/users", user.Tokens);
        await AuthApiClient.ProblemAsync(forbidden, HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
        using var anonymous = await admin.Api.SendAsync(HttpMethod.Get, "/api/admin/users", accessToken: null);
        await AuthApiClient.ProblemAsync(anonymous, HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized);
    }

    [Fact]
    public async Task Create_admin_refuses_a_new_account_without_a_password_and_promotes_an_existing_one_without_one()
    {
        var email = AuthApiClient.NewEmail();
        var error = new StringWriter();
        Assert.Equal(2, await CreateAdminCommand.RunAsync(host.Services, ["create-admin", "--email", email], new StringReader(""), TextWriter.Null, error));
        Assert.Contains("No password", error.ToString(), StringComparison.Ordinal);
        using (var login = await admin.Api.LoginAsync(email))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        }

        var user = await admin.NewUserAsync();
        Assert.Equal(0, await CreateAdminCommand.RunAsync(host.Services, ["create-admin", "--email", user.Email], new StringReader(""), TextWriter.Null, TextWriter.Null));
        Assert.Equal(["admin", "user"], AdminClient.RolesOf(await admin.Api.LoginOkAsync(user.Email)));
        var audit = await admin.OkAsync(HttpMethod.Get, $"/api/admin/audit?targetUserId={user.Id}&action=admin.create", await admin.Api.LoginOkAsync(user.Email));
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("actorId").ValueKind); // the command, on the server: no user acted
    }

    [Fact]
    public async Task An_admin_searches_users_in_cursor_pages()
    {
        var boss = await admin.NewAdminAsync();
        var tag = Guid.NewGuid().ToString("N")[..12];
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            using var registered = await admin.Api.RegisterAsync(AuthApiClient.NewEmail(), name: $"Searchable {tag} {i}");
            ids.Add((await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
        }

        var first = await admin.OkAsync(HttpMethod.Get, $"/api/admin/users?q={tag.ToUpperInvariant()}&limit=2", boss.Tokens);
        var second = await admin.OkAsync(HttpMethod.Get, $"/api/admin/users?q={tag}&limit=2&cursor={first.GetProperty("nextCursor").GetString()}", boss.Tokens);

        var pages = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(u => u.GetProperty("id").GetGuid());
        Assert.Equal(Enumerable.Reverse(ids), pages);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        var admins = await admin.OkAsync(HttpMethod.Get, "/api/admin/users?role=admin&limit=200", boss.Tokens);
        Assert.Contains(admins.GetProperty("items").EnumerateArray(), u => u.GetProperty("id").GetGuid() == boss.Id);
        Assert.DoesNotContain(admins.GetProperty("items").EnumerateArray(), u => ids.Contains(u.GetProperty("id").GetGuid()));
        using var badCursor = await admin.SendAsync(HttpMethod.Get, "/api/admin/users?cursor=nope", boss.Tokens);
        await AuthApiClient.ProblemAsync(badCursor, HttpStatusCode.BadRequest, ProblemTypes.Validation);
    }

    [Fact]
    public async Task An_admin_sees_a_user_with_its_sessions_and_404_for_an_unknown_one()
    {
        var boss = await admin.NewAdminAsync();
        var user = await admin.NewUserAsync();
        await admin.Api.LoginOkAsync(user.Email);

        var detail = await admin.OkAsync(HttpMethod.Get, $"/api/admin/users/{user.Id}", boss.Tokens);

        Assert.Equal(user.Email, detail.GetProperty("user").GetProperty("email").GetString());
        Assert.Equal(2, detail.GetProperty("sessions").GetArrayLength());
        using var unknown = await admin.SendAsync(HttpMethod.Get, $"/api/admin/users/{Guid.NewGuid()}", boss.Tokens);
        await AuthApiClient.ProblemAsync(unknown, HttpStatusCode.NotFound, ProblemTypes.NotFound);
    }

    [Fact]
    public async Task A_disabled_users_tokens_are_refused_everywhere_within_a_second_and_its_login_until_enabled()
    {
        var boss = await admin.NewAdminAsync();
        var user = await admin.NewUserAsync();
        await using var other = await OtherService.StartAsync(fixture.Tier, host);
        Assert.Equal(HttpStatusCode.OK, await other.WhoAmIAsync(user.Tokens.AccessToken));

        await admin.NoContentAsync(HttpMethod.Post, $"/api/admin/users/{user.Id}/disable", boss.Tokens);

        await Poll.UntilAsync(async () => await other.WhoAmIAsync(user.Tokens.AccessToken) == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(1), "the disabled user's token to be refused by another service");
        using (var refresh = await admin.Api.RefreshAsync(user.Tokens.RefreshToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        }
        using (var login = await admin.Api.LoginAsync(user.Email))
        {
            await AuthApiClient.ProblemAsync(login, HttpStatusCode.Forbidden, AuthProblems.AccountDisabledType);
        }
        await admin.NoContentAsync(HttpMethod.Post, $"/api/admin/users/{user.Id}/enable", boss.Tokens);
        await admin.Api.LoginOkAsync(user.Email);
    }

    [Fact]
    public async Task An_admin_ends_every_session_of_a_user()
    {
        var boss = await admin.NewAdminAsync();
        var user = await admin.NewUserAsync();
        var second = await admin.Api.LoginOkAsync(user.Email);

        await admin.NoContentAsync(HttpMethod.Delete, $"/api/admin/users/{user.Id}/sessions", boss.Tokens);

        foreach (var tokens in new[] { user.Tokens, second })
        {
            using var me = await admin.Api.SendAsync(HttpMethod.Get, "/api/auth/me", tokens.AccessToken);
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        }
        await admin.Api.LoginOkAsync(user.Email);
    }

    [Fact]
    public async Task Granting_a_role_shows_in_the_next_token_and_removing_it_ends_the_sessions_that_claim_it()
    {
        var boss = await admin.NewAdminAsync();
        var user = await admin.NewUserAsync();

        var promoted = await admin.OkAsync(HttpMethod.Put, $"/api/admin/users/{user.Id}/roles", boss.Tokens, new { roles = AdminAndAuditor });
        Assert.Equal(["admin", "auditor", "user"], promoted.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        var asAdmin = await admin.Api.LoginOkAsync(user.Email);
        Assert.Equal(["admin", "auditor", "user"], AdminClient.RolesOf(asAdmin));
        await admin.OkAsync(HttpMethod.Get, "/api/admin/users", asAdmin);

        await admin.OkAsync(HttpMethod.Put, $"/api/admin/users/{user.Id}/roles", boss.Tokens, new { roles = JustUser });

        using (var refused = await admin.SendAsync(HttpMethod.Get, "/api/admin/users", asAdmin))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using (var forbidden = await admin.SendAsync(HttpMethod.Get, "/api/admin/users", await admin.Api.LoginOkAsync(user.Email)))
        {
            await AuthApiClient.ProblemAsync(forbidden, HttpStatusCode.Forbidden, ProblemTypes.Forbidden);
        }
        using var invalid = await admin.SendAsync(HttpMethod.Put, $"/api/admin/users/{user.Id}/roles", boss.Tokens, new { roles = NotARole });
        await AuthApiClient.ProblemAsync(invalid, HttpStatusCode.BadRequest, ProblemTypes.Validation);
    }

    [Fact]
    public async Task An_admin_deletes_a_user_as_the_user_would_and_every_action_is_in_the_audit_log()
    {
        var boss = await admin.NewAdminAsync();
        var user = await admin.NewUserAsync();

        await admin.NoContentAsync(HttpMethod.Post, $"/api/admin/users/{user.Id}/disable", boss.Tokens);
        await admin.NoContentAsync(HttpMethod.Delete, $"/api/admin/users/{user.Id}", boss.Tokens);

        using (var gone = await admin.SendAsync(HttpMethod.Get, $"/api/admin/users/{user.Id}", boss.Tokens))
        {
            await AuthApiClient.ProblemAsync(gone, HttpStatusCode.NotFound, ProblemTypes.NotFound);
        }
        var audit = await admin.OkAsync(HttpMethod.Get, $"/api/admin/audit?targetUserId={user.Id}", boss.Tokens);
        var entries = audit.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["user.delete", "user.disable"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.All(entries, e =>
        {
            Assert.Equal(boss.Id, e.GetProperty("actorId").GetGuid());
            Assert.Equal(boss.Email, e.GetProperty("actorEmail").GetString());
            Assert.Equal("127.0.0.1", e.GetProperty("clientIp").GetString());
        });
        var deletions = await admin.OkAsync(HttpMethod.Get, $"/api/admin/audit?actorId={boss.Id}&action=user.delete&limit=1", boss.Tokens);
        Assert.Equal(user.Id, Assert.Single(deletions.GetProperty("items").EnumerateArray()).GetProperty("targetUserId").GetGuid());
        using var badFilter = await admin.SendAsync(HttpMethod.Get, "/api/admin/audit?actorId=me", boss.Tokens);
        await AuthApiClient.ProblemAsync(badFilter, HttpStatusCode.BadRequest, ProblemTypes.Validation);
        using var nulAction = await admin.SendAsync(HttpMethod.Get, "/api/admin/audit?action=%00", boss.Tokens);
        await AuthApiClient.ProblemAsync(nulAction, HttpStatusCode.BadRequest, ProblemTypes.Validation);
    }
}
