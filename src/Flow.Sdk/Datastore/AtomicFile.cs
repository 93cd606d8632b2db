using System.IO.Abstractions;

namespace Flow.Sdk.Datastore;

/// <summary>Writes files so that a reader sees either nothing or the whole file: temp file, then rename.</summary>
internal static class AtomicFile
{
    public static string TempPath(IFileSystem fs, string tmpDir)
    {
        fs.Directory.CreateDirectory(tmpDir);
        return fs.Path.Combine(tmpDir, Guid.NewGuid().ToString("N"));
    }

    /// <summary>Moves a finished temp file into place. Without <paramref name="overwrite"/> an existing file wins.</summary>
    /// <returns>False when the target existed and <paramref name="overwrite"/> was false.</returns>
    public static bool Publish(IFileSystem fs, string temp, string final, bool overwrite)
    {
        fs.Directory.CreateDirectory(fs.Path.GetDirectoryName(final)!);
        try
        {
            fs.File.Move(temp, final, overwrite);
            return true;
        }
        catch (IOException) when (!overwrite && fs.File.Exists(final))
        {
            fs.File.Delete(temp);
            return false;
        }
    }

    public static bool WriteBytes(IFileSystem fs, string tmpDir, string final, ReadOnlySpan<byte> bytes, bool overwrite)
    {
        var temp = TempPath(fs, tmpDir);
        using (var stream = fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
        }
        return Publish(fs, temp, final, overwrite);
    }

    public static bool WriteJson<T>(IFileSystem fs, string tmpDir, string final, T value, bool overwrite)
        where T : IJsonRecord<T> =>
        WriteBytes(fs, tmpDir, final, Json.Bytes(value), overwrite);
}
