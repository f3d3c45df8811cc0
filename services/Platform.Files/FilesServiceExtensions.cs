using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Data;
using Platform.Data.Retention;
using Platform.Files.Data;
using Platform.Files.Storage;

namespace Platform.Files;

public static class FilesServiceExtensions
{
    /// <summary>Limits (validated at start), the schema as a migrate step, storage, metrics and the tombstones' retention.</summary>
    public static WebApplicationBuilder AddFilesService(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FilesOptions>().BindConfiguration(FilesOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSchema(FilesSchema.Component);
        builder.Services.AddSingleton<FilesMetrics>();
        builder.Services.AddSingleton<FileDataSources>();
        builder.Services.AddSingleton<FileCatalog>();
        builder.Services.AddSingleton<UploadSlots>();
        builder.Services.AddSingleton<FileUploader>();
        var maxFileBytes = builder.Configuration.GetSection(FilesOptions.Section).GetValue(nameof(FilesOptions.MaxFileBytes), new FilesOptions().MaxFileBytes);
        builder.AddPlatformRetention(DeletedOwnersRetention.For(maxFileBytes));
        return builder;
    }
}
