using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Hosting;
using Platform.Hosting.Health;
using Platform.Hosting.Problems;

namespace Platform.Data;

/// <summary>Where a service's own database lives on the primary.</summary>
public sealed record PrimaryDatabase(string ConnectionString, string Name);

public static class PostgresExtensions
{
    /// <summary>
    /// Registers the service's database on the primary: ConnectionStrings:Postgres names the server and
    /// user, Postgres:Password the password (<see cref="PostgresConnectionString"/>), the service names its database (Postgres:Database overrides the name, e.g. one database per
    /// test class). Its readiness is part of /readyz; its outages answer 503 (<see cref="PostgresOutages"/>).
    /// </summary>
    public static WebApplicationBuilder AddPlatformPostgres(this WebApplicationBuilder builder, string database)
    {
        var configured = builder.Configuration[ConfigurationKeys.PostgresConnection];
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException("ConnectionStrings:Postgres is not set; the service cannot start without its database.");
        }
        database = builder.Configuration[ConfigurationKeys.PostgresDatabase] is { Length: > 0 } overridden ? overridden : database;
        var connection = PostgresConnectionString.Build(builder.Configuration, configured);
        connection.Database = database;
        connection.ApplicationName = builder.Environment.ApplicationName;
        if (!configured.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            connection.Timeout = 3;
        }
        builder.Services.AddSingleton(new PrimaryDatabase(connection.ConnectionString, database));
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connection.ConnectionString));
        builder.Services.AddSingleton<IHostedService>(services =>
            new PoolWarmup(services.GetRequiredService<NpgsqlDataSource>(), "primary", services.GetRequiredService<ILogger<PoolWarmup>>()));
        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout);
        builder.Services.AddPostgresOutages();
        return builder;
    }

    /// <summary>PostgreSQL's outages answer 503 with Retry-After, not 500 (<see cref="PostgresOutages"/>).</summary>
    public static IServiceCollection AddPostgresOutages(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOutageClassifier, PostgresOutages>());
        return services;
    }

    /// <summary>
    /// The service's database through EF Core: a pooled context on the primary's data source. EF Core maps and
    /// queries; it does not migrate: the schema is the service's <see cref="SchemaComponent"/> like everyone's.
    /// </summary>
    public static WebApplicationBuilder AddPlatformDbContext<TContext>(this WebApplicationBuilder builder, string database)
        where TContext : DbContext
    {
        builder.AddPlatformPostgres(database);
        builder.Services.AddDbContextPool<TContext>((services, options) => options
            .UseNpgsql(services.GetRequiredService<NpgsqlDataSource>()));
        return builder;
    }
}
