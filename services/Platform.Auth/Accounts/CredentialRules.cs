using System.Net.Mail;

namespace Platform.Auth.Accounts;

/// <summary>What a valid e-mail address, password and display name are. Each rule answers with the message a user sees.</summary>
public static class CredentialRules
{
    public const int MinPasswordLength = 10;
    public const int MaxPasswordLength = 128;
    public const int MaxEmailLength = 254;
    public const int MaxNameLength = 100;

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();

    public static string? EmailProblem(string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return "An e-mail address is required.";
        }
        var trimmed = email.Trim();
        if (trimmed.Length > MaxEmailLength || trimmed.Any(char.IsControl) || trimmed.Any(char.IsWhiteSpace))
        {
            return $"The e-mail address must be at most {MaxEmailLength} characters, without spaces or control characters.";
        }
        return MailAddress.TryCreate(trimmed, out var address) && address.Address == trimmed && address.Host.Contains('.', StringComparison.Ordinal)
            ? null
            : "The e-mail address is not valid.";
    }

    /// <summary>
    /// 10 to 128 characters from at least two classes (lower case, upper case, digits, other). Long passphrases
    /// are welcome: the hasher pre-hashes, so nothing past bcrypt's 72 bytes is ignored.
    /// </summary>
    public static string? PasswordProblem(string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            return "A password is required.";
        }
        if (password.Length is < MinPasswordLength or > MaxPasswordLength)
        {
            return $"The password must be {MinPasswordLength} to {MaxPasswordLength} characters long.";
        }
        var classes = new[] { password.Any(char.IsLower), password.Any(char.IsUpper), password.Any(char.IsDigit), password.Any(c => !char.IsLetterOrDigit(c)) };
        return classes.Count(present => present) >= 2
            ? null
            : "The password must mix at least two of: lower-case letters, upper-case letters, digits, other characters.";
    }

    public static string? NameProblem(string? name) =>
        name is null || (name.Trim().Length is > 0 and <= MaxNameLength && !name.Any(char.IsControl))
            ? null
            : $"The name must be 1 to {MaxNameLength} characters without control characters.";
}
