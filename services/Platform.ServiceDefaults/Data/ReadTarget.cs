namespace Platform.ServiceDefaults.Data;

public enum ReadTarget
{
    Primary,
    Replica,
}

/// <summary>The read replica's data source on the service's database; null when no replica is configured.</summary>
public sealed record ReadReplica(Npgsql.NpgsqlDataSource? DataSource);
