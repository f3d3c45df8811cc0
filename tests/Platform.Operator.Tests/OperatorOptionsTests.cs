using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Platform.Operator.Hosting;

namespace Platform.Operator.Tests;

/// <summary>Operator:KeysetSecrets, the Secrets the operator may manage (and its chart's Role grants by name): bound and validated at start.</summary>
public sealed class OperatorOptionsTests
{
    [Theory]
    [InlineData("platform-signing-keys", new[] { "platform-signing-keys" })]
    [InlineData(" blue-signing-keys , green.signing-keys,blue-signing-keys,", new[] { "blue-signing-keys", "green.signing-keys" })]
    public void Keyset_secrets_are_a_comma_separated_list_of_names(string value, string[] names)
    {
        Assert.Equal(names, new OperatorOptions { KeysetSecrets = value }.KeysetSecretNames);
    }

    /// <summary>By default the name the platform chart gives its keyset Secret in a release called platform, as the operator chart's keysetSecrets.</summary>
    [Fact]
    public void The_default_is_the_platform_charts_keyset_secret_of_a_release_named_platform()
    {
        Assert.Equal(["platform-signing-keys"], new OperatorOptions().KeysetSecretNames);
    }

    [Theory]
    [InlineData("", "KeysetSecrets")]
    [InlineData(" , ", "at least one Secret")]
    [InlineData("platform-signing-keys,Postgres_Credentials", "\"Postgres_Credentials\" is not a Secret name")]
    [InlineData("-keys", "\"-keys\" is not a Secret name")]
    public void Anything_but_secret_names_is_refused(string value, string message)
    {
        var options = new OperatorOptions { KeysetSecrets = value };
        var results = new List<ValidationResult>();

        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_operator_does_not_start_with_a_keyset_secret_that_is_no_secret_name()
    {
        var directory = Directory.CreateTempSubdirectory("options-").FullName;
        try
        {
            var kubeconfig = Path.Combine(directory, "kubeconfig");
            await File.WriteAllTextAsync(kubeconfig, """
                apiVersion: v1
                kind: Config
                current-context: nowhere
                clusters: [{name: nowhere, cluster: {server: "http://127.0.0.1:9"}}]
                users: [{name: operator, user: {token: t}}]
                contexts: [{name: nowhere, context: {cluster: nowhere, user: operator, namespace: platform}}]
                """);
            await using var app = OperatorHost.Build([$"--Operator:Kubeconfig={kubeconfig}", "--Operator:Port=0", "--Operator:KeysetSecrets=platform-signing-keys,Postgres_Credentials"]);

            var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

            Assert.Contains("Postgres_Credentials", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
