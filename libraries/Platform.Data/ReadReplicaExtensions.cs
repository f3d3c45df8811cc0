using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Hosting;

namespace Platform.Data;

public static class ReadReplicaExtensions
{
    private const int ReplicaCommandTimeoutSeconds = 5;

    /// <summary>
    /// Reads through <see cref="ReadRouter"/>: ConnectionStrings:PostgresReplica names the replica server (the
    /// service's database name is the primary's); without it every read goes to the primary. Needs
    /// <c>AddPlatformPostgres</c> and <c>AddPlatformRedis</c> (read-your-writes marks). The replica is not part
    /// of readiness: reads fall back to the primary when it is down.
    /// </summary>
    public static WebApplicationBuilder AddPlatformReadReplica(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReadRoutingOptions>().BindConfiguration(ReadRoutingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        var configured = builder.Configuration[ConfigurationKeys.PostgresReplicaConnection];
        builder.Services.AddSingleton(services =>
        {
            if (string.IsNullOrWhiteSpace(configured))
            {
                return new ReadReplica(null);
            }
            var database = services.GetRequiredService<PrimaryDatabase>();
            var connection = PostgresConnectionString.Build(builder.Configuration, configured);
            connection.Database = database.Name;
            connection.ApplicationName = builder.Environment.ApplicationName;
            if (!configured.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
            {
                connection.Timeout = 2;
            }
            // A read routed here is a short query. A replica that hangs without closing its connections (a frozen
            // process, a partition) held each such read for Npgsql's default 30 s; after this the read is answered by
            // the primary (ReadRouter), and the lag monitor stops routing here within seconds.
            if (!configured.Contains("Command Timeout", StringComparison.OrdinalIgnoreCase) && !configured.Contains("CommandTimeout", StringComparison.OrdinalIgnoreCase))
            {
                connection.CommandTimeout = ReplicaCommandTimeoutSeconds;
            }
            return new ReadReplica(NpgsqlDataSource.Create(connection.ConnectionString));
        });
        builder.Services.AddSingleton<IHostedService>(services =>
            new PoolWarmup(services.GetRequiredService<ReadReplica>().DataSource, "read replica", services.GetRequiredService<ILogger<PoolWarmup>>()));
        builder.Services.AddSingleton<ReplicaLagMonitor>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ReplicaLagMonitor>());
        builder.Services.AddSingleton<RecentWriters>();
        builder.Services.AddSingleton<DataMetrics>();
        builder.Services.AddSingleton<ReadRouter>();
        return builder;
    }
}
