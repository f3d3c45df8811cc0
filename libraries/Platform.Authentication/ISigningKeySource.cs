using Microsoft.IdentityModel.Tokens;

namespace Platform.Authentication;

/// <summary>
/// The public keys access tokens may be signed with. Validators call <see cref="GetKeysAsync"/> on every
/// cache miss, so it must answer from memory; <see cref="RefreshAsync"/> is for a token whose <c>kid</c> is
/// not among them, and may return the same keys again when a refresh is not allowed yet.
/// A source returns the same list instance for as long as its keys do not change.
/// </summary>
public interface ISigningKeySource
{
    /// <exception cref="SigningKeysUnavailableException">No keys have ever been loaded and loading them failed.</exception>
    ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken);

    /// <exception cref="SigningKeysUnavailableException">No keys have ever been loaded and loading them failed.</exception>
    ValueTask<IReadOnlyList<SecurityKey>> RefreshAsync(CancellationToken cancellationToken);
}

/// <summary>There are no keys to validate with: a server-side outage, not a bad token.</summary>
public sealed class SigningKeysUnavailableException(string message) : Exception(message);
