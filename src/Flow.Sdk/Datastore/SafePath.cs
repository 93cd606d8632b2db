using System.IO.Abstractions;

namespace Flow.Sdk.Datastore;

/// <summary>Paths from records (snapshot manifests) that become files: they must stay inside their folder.</summary>
internal static class SafePath
{
    /// <summary>
    /// <paramref name="relative"/> resolved under <paramref name="root"/>, or null when it is empty, rooted, or leaves
    /// the folder (<c>..</c>, a drive, a leading slash).
    /// </summary>
    public static string? Under(IFileSystem fs, string root, string relative)
    {
        if (string.IsNullOrEmpty(relative) || fs.Path.IsPathRooted(relative) || relative.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }
        var full = fs.Path.GetFullPath(fs.Path.Combine(root, relative));
        var prefix = fs.Path.TrimEndingDirectorySeparator(fs.Path.GetFullPath(root)) + fs.Path.DirectorySeparatorChar;
        return full.StartsWith(prefix, StringComparison.Ordinal) ? full : null;
    }
}
