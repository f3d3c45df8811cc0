using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Platform.Testing;

namespace Platform.Files.Tests;

/// <summary>Auth and files side by side, as in the platform: users register and log in at auth and use files with its tokens.</summary>
public sealed class FilesPlatform : IAsyncDisposable
{
    private readonly HttpClient authHttp;

    private FilesPlatform(AuthService auth, FilesService files)
    {
        Auth = auth;
        Files = files;
        authHttp = new HttpClient { BaseAddress = auth.Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public AuthService Auth { get; }

    public FilesService Files { get; }

    /// <summary>Databases <c>{name}</c> for files and <c>{name}_auth</c> for auth, fresh per test class.</summary>
    public static async Task<FilesPlatform> StartAsync(DataTier tier, string name, IReadOnlyDictionary<string, string?>? filesSettings = null)
    {
        var auth = await AuthService.StartAsync(tier, name + "_auth");
        var files = await FilesService.StartAsync(tier, name, auth, filesSettings);
        return new FilesPlatform(auth, files);
    }

    /// <summary>A newly registered, logged-in user with a files client carrying their access token.</summary>
    public async Task<FilesClient> NewUserAsync()
    {
        var email = $"user-{Guid.NewGuid():N}@example.org";
        const string password = "correct-Horse-battery-9";
        using var registered = await authHttp.PostAsJsonAsync("/api/auth/register", new { email, password });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var userId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var login = await authHttp.PostAsJsonAsync("/api/auth/login", new { email, password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        return new FilesClient(new HttpClient { BaseAddress = Files.Address, Timeout = TimeSpan.FromMinutes(10) }, authHttp, userId, token);
    }

    /// <summary>Rows in the files database that belong to <paramref name="owner"/>: metadata and content chunks.</summary>
    public async Task<(long Files, long Chunks)> StoredRowsAsync(Guid owner)
    {
        await using var connection = new NpgsqlConnection(Files.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM files WHERE owner = $1), (SELECT count(*) FROM file_chunks c JOIN files f ON f.id = c.file_id WHERE f.owner = $1)", connection)
        {
            Parameters = { new() { Value = owner } },
        };
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Every row of both tables, whoever owns it: what a rejected upload must not change.</summary>
    public async Task<(long Files, long Chunks)> AllStoredRowsAsync()
    {
        await using var connection = new NpgsqlConnection(Files.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM file_chunks)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async ValueTask DisposeAsync()
    {
        authHttp.Dispose();
        await Files.DisposeAsync();
        await Auth.DisposeAsync();
    }
}
