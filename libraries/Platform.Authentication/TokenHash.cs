using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Authentication;

/// <summary>
/// The SHA-256 of a raw token: the key of a validated token in the cache. A cryptographic hash, because
/// with a weak one an attacker could craft a string that collides with someone's cached token and be served
/// that person's identity without any signature check.
/// </summary>
internal readonly record struct TokenHash(ulong A, ulong B, ulong C, ulong D)
{
    private const int StackLimit = 2048;

    public static TokenHash Of(ReadOnlySpan<char> token)
    {
        var length = Encoding.UTF8.GetMaxByteCount(token.Length);
        byte[]? rented = null;
        var bytes = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(token, bytes);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..written], digest);
            return new TokenHash(
                BinaryPrimitives.ReadUInt64LittleEndian(digest),
                BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(digest[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(digest[24..]));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
