using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Platform.Auth.Tests;

/// <summary>The platform keeps an active admin: in a database of its own, so the test knows every admin there is.</summary>
[Collection(AuthTierCollection.Name)]
public sealed class LastAdminTests(AuthTierFixture fixture) : IAsyncLifetime
{
    private static readonly string[] JustUser = ["user"];

    private AuthHost host = null!;
    private AdminClient admin = null!;

    public async Task InitializeAsync()
    {
        host = await AuthHost.StartAsync(fixture.Tier, "auth_last_admin");
        admin = new AdminClient(host, new AuthApiClient(host.CreateRealClient()));
        await host.QueryAsync(db => db.Users.ExecuteDeleteAsync());
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task The_last_active_admin_cannot_be_disabled_demoted_or_deleted_and_two_admins_demoting_each_other_leave_one()
    {
        var first = await admin.NewAdminAsync();

        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, $"/api/admin/users/{first.Id}/disable", null),
            (HttpMethod.Put, $"/api/admin/users/{first.Id}/roles", new { roles = JustUser }),
            (HttpMethod.Delete, $"/api/admin/users/{first.Id}", null),
            (HttpMethod.Delete, "/api/auth/account", null),
        })
        {
            using var refused = await admin.SendAsync(method, path, first.Tokens, body);
            await AuthApiClient.ProblemAsync(refused, HttpStatusCode.Conflict, AuthProblems.LastAdminType);
        }

        var second = await admin.NewAdminAsync();
        using var demoteSecond = admin.SendAsync(HttpMethod.Put, $"/api/admin/users/{second.Id}/roles", first.Tokens, new { roles = JustUser });
        using var demoteFirst = admin.SendAsync(HttpMethod.Put, $"/api/admin/users/{first.Id}/roles", second.Tokens, new { roles = JustUser });
        var outcomes = (await Task.WhenAll(demoteSecond, demoteFirst)).Select(r => r.StatusCode).Order().ToList();

        // The loser finds itself last (409) — or, if the winner's demotion already ended its session, is not let in (401).
        Assert.Equal(HttpStatusCode.OK, outcomes[0]);
        Assert.Contains(outcomes[1], new[] { HttpStatusCode.Conflict, HttpStatusCode.Unauthorized });
        Assert.Equal(1, await host.QueryAsync(db => db.Users.CountAsync(u => u.Roles.Contains("admin"))));
    }
}
