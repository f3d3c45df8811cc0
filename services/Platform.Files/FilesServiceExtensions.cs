using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Data;
using Platform.Data.Retention;
using Platform.Files.Data;
using Platform.Files.Storage;
using Platform.Hosting.Problems;

namespace Platform.Files;

public static class FilesServiceExtensions
{
    /// <summary>
    /// Limits (validated at start), the schema as a migrate step, storage (and, with a content directory, the removal
    /// of its unreferenced files), metrics and the tombstones' retention.
    /// </summary>
    public static WebApplicationBuilder AddFilesService(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FilesOptions>().BindConfiguration(FilesOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSchema(FilesSchema.Component);
        builder.Services.AddSingleton<FilesMetrics>();
        builder.Services.AddSingleton<FileDataSources>();
        builder.Services.AddSingleton<FileCatalog>();
        builder.Services.AddSingleton<UploadSlots>();
        builder.Services.AddSingleton<DownloadSlots>();
        builder.Services.AddSingleton<FileUploader>();
        builder.Services.AddSingleton<FileContent>();
        if (builder.Configuration.GetSection(FilesOptions.Section)[nameof(FilesOptions.ContentDirectory)] is { Length: > 0 } contentDirectory)
        {
            // Made when first needed (ContentRemovals starts with the host), so `migrate` never touches the volume.
            builder.Services.AddSingleton(_ => new ContentDirectory(contentDirectory));
            builder.Services.AddSingleton<ContentRemovals>();
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IOutageClassifier, ContentStoreOutages>());
            builder.Services.AddHostedService(services => services.GetRequiredService<ContentRemovals>());
        }
        var maxFileBytes = builder.Configuration.GetSection(FilesOptions.Section).GetValue(nameof(FilesOptions.MaxFileBytes), new FilesOptions().MaxFileBytes);
        builder.AddPlatformRetention(DeletedOwnersRetention.For(maxFileBytes));
        return builder;
    }
}
