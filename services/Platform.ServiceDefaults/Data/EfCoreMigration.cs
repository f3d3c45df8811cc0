using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Platform.ServiceDefaults.Data;

/// <summary>Applies a service's EF Core migrations as one step of its <c>migrate</c> command.</summary>
public sealed class EfCoreMigration<TContext>(IServiceProvider services) : IDatabaseMigration
    where TContext : DbContext
{
    public async Task ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TContext>().Database.MigrateAsync(cancellationToken);
    }
}
