namespace Platform.Hosting;

/// <summary>
/// The configuration keys a deployment sets (the chart's environment, <c>scripts/platform.sh</c>) that the code reads
/// directly rather than through an options class. Options classes name their own section (<c>public const string
/// Section</c>); with this list they are the whole contract between the deployment and the code, and
/// <c>Platform.Deploy.Tests/ConfigurationKeysTests</c> holds every variable the chart renders to it. <c>*</c> stands for any
/// one segment (an array index, a dictionary key).
/// </summary>
public static class ConfigurationKeys
{
    public const string PostgresConnection = "ConnectionStrings:Postgres";
    public const string PostgresReplicaConnection = "ConnectionStrings:PostgresReplica";
    public const string RedisConnection = "ConnectionStrings:Redis";
    public const string RabbitMqConnection = "ConnectionStrings:RabbitMq";

    /// <summary>Each store's password and CA certificate are kept apart from its connection string, so they can come from Secrets.</summary>
    public const string PostgresPassword = "Postgres:Password";
    public const string PostgresCaCertificate = "Postgres:CaCertificate";
    public const string RedisPassword = "Redis:Password";
    public const string RedisCaCertificate = "Redis:CaCertificate";

    /// <summary>"Dedicated" runs the Redis client's I/O on its own threads instead of .NET's pool (the bench's comparison arm).</summary>
    public const string RedisSocketManager = "Redis:SocketManager";
    public const string RabbitMqPassword = "RabbitMq:Password";
    public const string RabbitMqCaCertificate = "RabbitMq:CaCertificate";

    /// <summary>Overrides the database a service names for itself (tests: one database per test class).</summary>
    public const string PostgresDatabase = "Postgres:Database";

    /// <summary>
    /// For <c>migrate</c> only: the login role the service runs as and its password. Migrating as the administrator of
    /// ConnectionStrings:Postgres, the command makes that role (or sets its password), gives it the service's database
    /// and every object in it, and lets no other role connect; the service itself then connects as the role.
    /// </summary>
    public const string PostgresServiceRole = "Postgres:ServiceRole";
    public const string PostgresServiceRolePassword = "Postgres:ServiceRolePassword";
    public const string PostgresServiceRoleConnectionLimit = "Postgres:ServiceRoleConnectionLimit";

    /// <summary>Auth's trusted proxies for X-Forwarded-For (the gateway's are <c>Edge:TrustedProxies</c>).</summary>
    public const string ForwardedHeadersTrustedNetworks = "ForwardedHeaders:TrustedNetworks";

    /// <summary>YARP's own schema: the gateway's upstream addresses, overridden per Service by the chart.</summary>
    public const string ReverseProxyDestinationAddress = "ReverseProxy:Clusters:*:Destinations:*:Address";

    /// <summary>YARP's own schema: the HTTP version the gateway speaks to an upstream (2 to auth and tasks, edge.http2Upstreams).</summary>
    public const string ReverseProxyHttpVersion = "ReverseProxy:Clusters:*:HttpRequest:Version";
    public const string ReverseProxyHttpVersionPolicy = "ReverseProxy:Clusters:*:HttpRequest:VersionPolicy";

    /// <summary>Kestrel's own schema: auth and tasks listen on a second, HTTP/2-only endpoint for the gateway.</summary>
    public const string KestrelEndpointUrl = "Kestrel:Endpoints:*:Url";
    public const string KestrelEndpointProtocols = "Kestrel:Endpoints:*:Protocols";

    /// <summary>Seconds in-flight requests may drain after SIGTERM (default 25); the chart sets it from each pod's grace period.</summary>
    public const string ShutdownTimeoutSeconds = "Shutdown:TimeoutSeconds";

    public static IReadOnlyList<string> Direct { get; } =
    [
        PostgresConnection, PostgresReplicaConnection, RedisConnection, RabbitMqConnection,
        PostgresPassword, PostgresCaCertificate, RedisPassword, RedisCaCertificate, RedisSocketManager, RabbitMqPassword, RabbitMqCaCertificate,
        PostgresDatabase, PostgresServiceRole, PostgresServiceRolePassword, PostgresServiceRoleConnectionLimit, ForwardedHeadersTrustedNetworks + ":*", ReverseProxyDestinationAddress,
        ReverseProxyHttpVersion, ReverseProxyHttpVersionPolicy, KestrelEndpointUrl, KestrelEndpointProtocols, ShutdownTimeoutSeconds,
    ];
}
