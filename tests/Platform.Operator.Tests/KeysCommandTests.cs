using System.Security.Cryptography;
using System.Text;
using Platform.Contracts.Keys;
using Platform.Operator.Cli;
using Platform.Operator.Keys;

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
    [InlineData("rotate")]
    [InlineData("show", "--dir", "x", "--wait")]
    [InlineData("rotate", "--dir", "x", "--pre-publish", "soon")]
    [InlineData("unknown", "--dir", "x")]
    public async Task Bad_arguments_print_usage_and_exit_2(params string[] args)
    {
        using var output = new StringWriter();

        var exit = await KeysCommand.RunAsync(args, output, TimeProvider.System, CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.Contains("usage:", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A whole rotation in about a second of real time: publish, activate after prePublish (once auth — here,
    /// nobody is asked — is current), retire, remove after retireAfter; the CLI stays until it is done.
    /// </summary>
    [Fact]
    public async Task Rotate_with_wait_publishes_activates_retires_and_removes_leaving_only_the_new_key()
    {
        await KeysCommand.RunAsync(["init", "--dir", directory], TextWriter.Null, TimeProvider.System, CancellationToken.None);
        var old = (await KeysetFile.ReadAsync(directory, CancellationToken.None))!.Keys[0].Kid;
        using var output = new StringWriter();

        var exit = await KeysCommand.RunAsync(
            ["rotate", "--dir", directory, "--wait", "--pre-publish", "300ms", "--retire-after", "400ms", "--propagation", "100ms", "--token-lifetime-plus-skew", "300ms"],
            output, TimeProvider.System, CancellationToken.None);

        Assert.Equal(0, exit);
        var keyset = (await KeysetFile.ReadAsync(directory, CancellationToken.None))!;
        var key = Assert.Single(keyset.Keys);
        Assert.NotEqual(old, key.Kid);
        Assert.True(keyset.Version >= 3, $"version {keyset.Version}: publish and removal are two writes after init");
        var log = output.ToString();
        Assert.Contains("Published", log, StringComparison.Ordinal);
        Assert.Contains("Activated", log, StringComparison.Ordinal);
        Assert.Contains("Retired", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotate_without_wait_only_publishes_the_next_key()
    {
        await KeysCommand.RunAsync(["init", "--dir", directory], TextWriter.Null, TimeProvider.System, CancellationToken.None);

        var exit = await KeysCommand.RunAsync(["rotate", "--dir", directory], TextWriter.Null, TimeProvider.System, CancellationToken.None);

        Assert.Equal(0, exit);
        var keyset = (await KeysetFile.ReadAsync(directory, CancellationToken.None))!;
        Assert.Equal(2, keyset.Keys.Count);
        Assert.Equal(keyset.Keys[1].ActivatesAt, keyset.Keys[0].RetiresAt);
        Assert.Equal(TimeSpan.FromSeconds(70), keyset.Keys[0].ExpiresAt - keyset.Keys[0].RetiresAt);
        using var shown = new StringWriter();
        await KeysCommand.RunAsync(["show", "--dir", directory], shown, TimeProvider.System, CancellationToken.None);
        Assert.Contains("active", shown.ToString(), StringComparison.Ordinal);
        Assert.Contains("next", shown.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotate_refuses_timings_that_would_reject_valid_tokens()
    {
        await KeysCommand.RunAsync(["init", "--dir", directory], TextWriter.Null, TimeProvider.System, CancellationToken.None);
        var before = await File.ReadAllTextAsync(KeysetFile.PathIn(directory));
        using var output = new StringWriter();

        var exit = await KeysCommand.RunAsync(["rotate", "--dir", directory, "--retire-after", "30s"], output, TimeProvider.System, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains("retireAfter", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(KeysetFile.PathIn(directory)));
    }

    [Theory]
    [InlineData("ES256")]
    [InlineData("RS256")]
    [InlineData("PS256")]
    public void Every_supported_algorithm_makes_a_key_with_its_private_parameters(string algorithm)
    {
        var now = DateTimeOffset.UtcNow;

        var key = SigningKeyFactory.Create(algorithm, now, now);

        Assert.Equal(algorithm, key.Alg);
        Assert.True(key.PrivateJwk.TryGetProperty("d", out _));
        Assert.Equal(key.Kid, key.PrivateJwk.GetProperty("kid").GetString());
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
