using Microsoft.IdentityModel.Tokens;

namespace Platform.Authentication;

/// <summary>
/// Why a bearer token was refused: <see cref="Reason"/> is the metric label, <see cref="Description"/> the
/// <c>error_description</c> a client sees. Descriptions are fixed strings, so nothing from the token or from
/// our internals ever reaches a response header.
/// </summary>
internal sealed record TokenFailure(string Reason, string Description)
{
    public static readonly TokenFailure Malformed = new("malformed", "The access token is malformed.");
    public static readonly TokenFailure InvalidSignature = new("invalid_signature", "The access token signature is invalid.");
    public static readonly TokenFailure UnknownKid = new("unknown_kid", "The access token is signed with an unknown key.");
    public static readonly TokenFailure Expired = new("expired", "The access token expired.");
    public static readonly TokenFailure NotYetValid = new("not_yet_valid", "The access token is not valid yet.");
    public static readonly TokenFailure InvalidIssuer = new("invalid_issuer", "The access token was issued by an untrusted issuer.");
    public static readonly TokenFailure InvalidAudience = new("invalid_audience", "The access token is not meant for this audience.");
    public static readonly TokenFailure Revoked = new("revoked", "The session of the access token was revoked.");

    /// <summary>Not the token's fault: we have no keys to check it with (the issuer was unreachable since we started).</summary>
    public static readonly TokenFailure KeysUnavailable = new("keys_unavailable", "The access token cannot be checked right now.");

    /// <summary>Most specific exception types first: several derive from the signature exception.</summary>
    public static TokenFailure From(Exception? exception) => exception switch
    {
        SecurityTokenSignatureKeyNotFoundException => UnknownKid,
        SecurityTokenExpiredException => Expired,
        SecurityTokenNotYetValidException => NotYetValid,
        SecurityTokenInvalidIssuerException => InvalidIssuer,
        SecurityTokenInvalidAudienceException => InvalidAudience,
        SecurityTokenInvalidSignatureException or SecurityTokenInvalidAlgorithmException => InvalidSignature,
        _ => Malformed,
    };
}
