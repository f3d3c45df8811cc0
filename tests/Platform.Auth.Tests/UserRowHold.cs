using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Platform.Auth.Data;
using Platform.Testing;

namespace Platform.Auth.Tests;

/// <summary>
/// A user's row held <c>FOR UPDATE</c> in a transaction of the test's own, so that requests needing the row wait at
/// that point in their work and the test can order them: it waits until so many are waiting, then lets go (or changes
/// the row first). Released on dispose.
/// </summary>
public sealed class UserRowHold : IAsyncDisposable
{
    private readonly AuthHost host;
    private readonly AsyncServiceScope scope;
    private readonly AuthDbContext db;
    private readonly IDbContextTransaction transaction;

    private UserRowHold(AuthHost host, AsyncServiceScope scope, AuthDbContext db, IDbContextTransaction transaction)
    {
        this.host = host;
        this.scope = scope;
        this.db = db;
        this.transaction = transaction;
    }

    public static async Task<UserRowHold> TakeAsync(AuthHost host, Guid userId)
    {
        ArgumentNullException.ThrowIfNull(host);
        var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var transaction = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM users WHERE id = {userId} FOR UPDATE");
        return new UserRowHold(host, scope, db, transaction);
    }

    /// <summary>Runs <paramref name="sql"/> in the holding transaction.</summary>
    public Task<int> ExecuteAsync(FormattableString sql) => db.Database.ExecuteSqlAsync(sql);

    /// <summary>Until <paramref name="count"/> other connections of the database wait for a lock.</summary>
    public Task WaitForWaitersAsync(int count, string what) =>
        Poll.UntilAsync(async () => await host.QueryAsync(query => query.Database
            .SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            .SingleAsync()) == count, TimeSpan.FromSeconds(20), what);

    public Task CommitAsync() => transaction.CommitAsync();

    /// <summary>
    /// Holds the user's row, sends <paramref name="send"/> and waits until it queues behind the row (its password
    /// checked), writes <paramref name="hash"/> as what raced it would, lets go; returns the request's answer.
    /// </summary>
    public static async Task<HttpResponseMessage> WhileTheHashIsReplacedAsync(AuthHost host, Guid userId, string hash, Func<Task<HttpResponseMessage>> send, string what)
    {
        ArgumentNullException.ThrowIfNull(send);
        Task<HttpResponseMessage> sending;
        await using (var hold = await TakeAsync(host, userId))
        {
            sending = send();
            await hold.WaitForWaitersAsync(1, what);
            await hold.ExecuteAsync($"UPDATE users SET password_hash = {hash} WHERE id = {userId}");
            await hold.CommitAsync();
        }
        return await sending;
    }

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await scope.DisposeAsync();
    }
}
