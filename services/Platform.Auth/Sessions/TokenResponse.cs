namespace Platform.Auth.Sessions;

/// <summary>The answer of login and refresh (DESIGN §2).</summary>
public sealed record TokenResponse(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn);
