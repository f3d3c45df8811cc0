using System.Security.Cryptography;
using System.Text;
using Platform.Operator.Cli;
using Platform.Operator.Keys;
using Platform.ServiceDefaults.Keys;

namespace Platform.Operator.Tests;

public sealed class KeysCommandTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "keys-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Init_creates_a_keyset_with_one_active_es256_key_that_signs_and_verifies()
    {
        var now = new DateTimeOffset(2026, 11, 26, 3, 0, 0, TimeSpan.Zero);

        var exit = await KeysCommand.RunAsync(["init", "--dir", directory], TextWriter.Null, new FixedClock(now), CancellationToken.None);

        Assert.Equal(0, exit);
        var keyset = await KeysetFile.ReadAsync(directory, CancellationToken.None);
        Assert.NotNull(keyset);
        Assert.Equal(1, keyset.Version);
        var key = Assert.Single(keyset.Keys);
        Assert.Equal("ES256", key.Alg);
        Assert.Equal(now, key.ActivatesAt);
        Assert.Null(key.RetiresAt);
        Assert.StartsWith("20261126T030000Z-", key.Kid, StringComparison.Ordinal);

        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = FromBase64Url(key.PrivateJwk.GetProperty("d").GetString()!),
            Q = new ECPoint
            {
                X = FromBase64Url(key.PrivateJwk.GetProperty("x").GetString()!),
                Y = FromBase64Url(key.PrivateJwk.GetProperty("y").GetString()!),
            },
        });
        var data = Encoding.UTF8.GetBytes("header.payload");
        Assert.True(ecdsa.VerifyData(data, ecdsa.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public async Task Init_leaves_an_existing_keyset_untouched()
    {
        await KeysCommand.RunAsync(["init", "--dir", directory], TextWriter.Null, TimeProvider.System, CancellationToken.None);
        var first = await File.ReadAllTextAsync(KeysetFile.PathIn(directory));

        var exit = await KeysCommand.RunAsync(["init", "--dir", directory], TextWriter.Null, TimeProvider.System, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Equal(first, await File.ReadAllTextAsync(KeysetFile.PathIn(directory)));
    }

    [Fact]
    public async Task The_keyset_file_is_readable_by_its_owner_only()
    {
        await KeysCommand.RunAsync(["init", "--dir", directory], TextWriter.Null, TimeProvider.System, CancellationToken.None);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeysetFile.PathIn(directory)));
        Assert.Empty(Directory.GetFiles(directory, "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData]
    [InlineData("init")]
    [InlineData("init", "--dir")]
    [InlineData("rotate", "--dir", "x")]
    public async Task Bad_arguments_print_usage_and_exit_2(params string[] args)
    {
        using var output = new StringWriter();

        var exit = await KeysCommand.RunAsync(args, output, TimeProvider.System, CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.Contains("usage:", output.ToString(), StringComparison.Ordinal);
    }

    private static byte[] FromBase64Url(string value)
    {
        var padded = value.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '='));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
