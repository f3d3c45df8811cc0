using Microsoft.IdentityModel.Tokens;
using Platform.Authentication;

namespace Platform.Auth.Keys;

/// <summary>Auth validates its own tokens against the keyset it signs with, not over HTTP against itself.</summary>
public sealed class KeysetSigningKeySource(KeysetProvider keys, TimeProvider clock) : ISigningKeySource
{
    public ValueTask<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<SecurityKey>>(Published());

    public ValueTask<IReadOnlyList<SecurityKey>> RefreshAsync(CancellationToken cancellationToken)
    {
        keys.Reload();
        return ValueTask.FromResult<IReadOnlyList<SecurityKey>>(Published());
    }

    private List<SecurityKey> Published() =>
        keys.Current.PublishedAt(clock.GetUtcNow()).Select(k => k.ValidationKey).ToList();
}
