using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Npgsql;
using Platform.Testing;

namespace Platform.EndToEnd.Tests;

[Collection(LocalPlatformCollection.Name)]
public sealed partial class ConnectionPoolTests(EndToEndPlatform platform)
{
    /// <summary>
    /// `make run` gives tasks the pool the chart gives a pod. With Npgsql's default of 100, a burst of users made tasks open
    /// backends faster than PostgreSQL could start them on two cores: bench scenario U answered 95 % of its requests 503
    /// while PostgreSQL forked backends that timed out before serving anything. A burst far larger than the pool must
    /// queue for it, and be served.
    /// </summary>
    [Fact]
    public async Task A_burst_of_writes_queues_for_the_charts_pool_and_every_one_is_served()
    {
        var pool = ChartPoolSize("tasks");
        using var http = new HttpClient { BaseAddress = platform.Services["gateway"], Timeout = TimeSpan.FromSeconds(30) };
        var tokens = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            tokens.Add((await PlatformUser.SignUpAsync(http)).AccessToken);
        }
        using var watching = new CancellationTokenSource();
        var sampling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var peak = WatchBackendsAsync("Platform.Tasks", sampling, watching.Token);
        // Not before the watcher samples: its own connection may take longer to open than the burst takes (CI once
        // saw a peak of 0, no sample taken at all).
        await sampling.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tasks") { Content = JsonContent.Create(new { title = $"burst {i}" }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[i % tokens.Count]);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }));
        await watching.CancelAsync();
        var most = await peak;

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.Created, status));
        // 200 writes at once, 50 of them on each user's generation row, want far more connections than the pool has:
        // tasks held its pool (opened at start) plus the outbox listener's own connection, and no more.
        Assert.InRange(most, 1, pool + 1);
    }

    /// <summary>
    /// The most backends <paramref name="application"/> held on the primary at once, sampled until cancelled;
    /// <paramref name="sampling"/> completes after the first sample.
    /// </summary>
    private async Task<int> WatchBackendsAsync(string application, TaskCompletionSource sampling, CancellationToken cancellationToken)
    {
        var maintenance = new NpgsqlConnectionStringBuilder(platform.Tier.PostgresPrimary) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        await using var count = new NpgsqlCommand("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1", connection)
        {
            Parameters = { new() { Value = application } },
        };
        var most = 0;
        do
        {
            most = Math.Max(most, (int)(await count.ExecuteScalarAsync(CancellationToken.None))!);
            sampling.TrySetResult();
            await Task.Delay(10, CancellationToken.None);
        }
        while (!cancellationToken.IsCancellationRequested);
        return most;
    }

    /// <summary>postgresql.maxPoolSize.&lt;service&gt; in the chart's values, which scripts/platform.sh gives the service too.</summary>
    private static int ChartPoolSize(string service)
    {
        var values = File.ReadAllText(Path.Combine(RepoPaths.Root, "charts", "platform", "values.yaml"));
        var block = PoolBlock().Match(values);
        Assert.True(block.Success, "charts/platform/values.yaml has no postgresql.maxPoolSize block");
        var size = Regex.Match(block.Groups[1].Value, $@"^    {Regex.Escape(service)}: (\d+)$", RegexOptions.Multiline);
        Assert.True(size.Success, $"postgresql.maxPoolSize has no entry for {service}");
        return int.Parse(size.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^  maxPoolSize:\n((?:    .*\n)+)", RegexOptions.Multiline)]
    private static partial Regex PoolBlock();
}
