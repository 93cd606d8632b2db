using System.IO.Abstractions;

namespace Flow.Sdk.Datastore;

/// <summary>Finds the <c>.flow</c> directory as DESIGN §6 fixes it.</summary>
internal static class DatastoreLocator
{
    public const string DirectoryName = ".flow";
    public const string EnvironmentVariable = "FLOW_DATASTORE";

    /// <summary>
    /// <c>--datastore</c>, else <c>FLOW_DATASTORE</c>, else the nearest <c>.flow/</c> walking up from
    /// <paramref name="startDirectory"/>, else <c>.flow/</c> in <paramref name="startDirectory"/> (not created here).
    /// </summary>
    public static string Locate(IFileSystem fs, string? explicitPath, string startDirectory)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            return fs.Path.GetFullPath(explicitPath);
        }
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return fs.Path.GetFullPath(fromEnv);
        }
        var start = fs.Path.GetFullPath(startDirectory);
        for (var dir = start; dir is not null; dir = fs.Path.GetDirectoryName(dir))
        {
            var candidate = fs.Path.Combine(dir, DirectoryName);
            if (fs.Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        return fs.Path.Combine(start, DirectoryName);
    }
}
