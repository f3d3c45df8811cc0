namespace Platform.Operator.Resources;

/// <summary>The API group of the platform's custom resources.</summary>
public static class PlatformGroup
{
    public const string Name = "platform.dev";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Name + "/" + Version;

    /// <summary>The field manager of every server-side apply, and the managed-by label of what the operator owns.</summary>
    public const string FieldManager = "platform-operator";

    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
}
