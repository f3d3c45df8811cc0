using System.Net;

namespace Platform.Files.Tests;

[Collection(FilesTierCollection.Name)]
public sealed class ServiceEndpointsTests(FilesTierFixture fixture) : IAsyncLifetime
{
    private FilesPlatform platform = null!;

    public async Task InitializeAsync() => platform = await FilesPlatform.StartAsync(fixture.Tier, "files_endpoints");

    public async Task DisposeAsync() => await platform.DisposeAsync();

    [Fact]
    public async Task Readiness_checks_postgresql_and_rabbitmq()
    {
        using var http = new HttpClient { BaseAddress = platform.Files.Address };

        using var response = await http.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await response.Content.ReadAsStringAsync();
        Assert.Contains("postgres", report, StringComparison.Ordinal);
        Assert.Contains("rabbitmq", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_uploaded_bytes_and_time_uploads()
    {
        using var user = await platform.NewUserAsync();
        var file = await user.UploadOkAsync(new byte[1234]);
        using var download = await user.GetAsync($"/api/files/{file.Id}/content");
        using var http = new HttpClient { BaseAddress = platform.Files.Address };

        var metrics = await http.GetStringAsync("/metrics");

        Assert.Matches(@"(?m)^files_uploaded_bytes_total(\{[^}]*\})? 1234(\.0+)?$", metrics);
        Assert.Matches(@"(?m)^files_upload_duration_seconds_count\{[^}]*result=""stored""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^files_uploads_total\{[^}]*result=""stored""[^}]*\} 1$", metrics);
        Assert.Matches(@"(?m)^files_downloaded_bytes_total(\{[^}]*\})? 1234(\.0+)?$", metrics);
    }
}
