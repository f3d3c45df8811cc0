using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Platform.Testing;

/// <summary>
/// Pseudo-random bytes of a given length, produced as they are read (a fixed-size state, never the whole body) and
/// hashed on the way out, so a test can send a gigabyte and still know the SHA-256 of what it sent.
/// </summary>
public sealed class GeneratedContentStream(long length, ulong seed = 0x9E3779B97F4A7C15) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private ulong state = seed | 1;
    private long produced;
    private string? finalHash = length == 0 ? Convert.ToHexStringLower(SHA256.HashData([])) : null;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => produced; set => throw new NotSupportedException(); }

    /// <summary>The hash of the whole content, once it has all been read (it survives the HTTP client disposing the stream).</summary>
    public string Sha256Hex => finalHash ?? throw new InvalidOperationException($"Only {produced} of {length} bytes have been read.");

    /// <summary>The content in memory, for the sizes where that is harmless.</summary>
    public static byte[] Bytes(int length, ulong seed = 0x9E3779B97F4A7C15)
    {
        using var content = new GeneratedContentStream(length, seed);
        var bytes = new byte[length];
        content.ReadExactly(bytes);
        return bytes;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - produced);
        var target = buffer[..count];
        var words = MemoryMarshal.Cast<byte, ulong>(target);
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = Next();
        }
        for (var i = words.Length * sizeof(ulong); i < count; i++)
        {
            target[i] = (byte)Next();
        }
        hash.AppendData(target);
        produced += count;
        if (produced == length && finalHash is null)
        {
            finalHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
        }
        base.Dispose(disposing);
    }

    private ulong Next()
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
}
