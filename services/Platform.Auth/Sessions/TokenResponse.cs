namespace Platform.Auth.Sessions;

/// <summary>The answer of login and refresh (docs/architecture.md §3.2).</summary>
public sealed record TokenResponse(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn);
