using Platform.Data;

namespace Platform.Files.Data;

/// <summary>
/// The files schema: numbered SQL scripts in <c>Data/Schema</c>. Its retention of <c>deleted_owners</c> is
/// <see cref="DeletedOwnersRetention"/>.
/// </summary>
public static class FilesSchema
{
    public static SchemaComponent Component { get; } = SchemaComponent.FromResources("files", typeof(FilesSchema).Assembly);
}
