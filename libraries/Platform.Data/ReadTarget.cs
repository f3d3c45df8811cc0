namespace Platform.Data;

public enum ReadTarget
{
    Primary,
    Replica,
}

/// <summary>The read replica's data source on the service's database; null when no replica is configured.</summary>
public sealed class ReadReplica(Npgsql.NpgsqlDataSource? dataSource) : IAsyncDisposable
{
    public Npgsql.NpgsqlDataSource? DataSource { get; } = dataSource;

    public ValueTask DisposeAsync() => DataSource?.DisposeAsync() ?? ValueTask.CompletedTask;
}
