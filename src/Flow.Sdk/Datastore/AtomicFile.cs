using System.IO.Abstractions;
using System.Runtime.InteropServices;

namespace Flow.Sdk.Datastore;

/// <summary>Writes files so that a reader sees either nothing or the whole file: temp file, then rename.</summary>
internal static partial class AtomicFile
{
    private const int EExist = 17; // the same on Linux and macOS
    private const int ENoEnt = 2;

    public static string TempPath(IFileSystem fs, string tmpDir)
    {
        fs.Directory.CreateDirectory(tmpDir);
        return fs.Path.Combine(tmpDir, Guid.NewGuid().ToString("N"));
    }

    /// <summary>
    /// Creates a new temp file in <paramref name="tmpDir"/>, creating the folder only when it is missing (it nearly
    /// always exists: checking first cost two system calls on every record a task writes).
    /// </summary>
    private static FileSystemStream CreateTemp(IFileSystem fs, string tmpDir, out string temp)
    {
        temp = fs.Path.Combine(tmpDir, Guid.NewGuid().ToString("N"));
        try
        {
            return fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }
        catch (DirectoryNotFoundException)
        {
            fs.Directory.CreateDirectory(tmpDir);
            return fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        }
    }

    /// <summary>
    /// Moves a finished temp file into place. Without <paramref name="overwrite"/> an existing file wins, and of
    /// writers racing for the same absent file exactly one wins: on Unix by <c>link(2)</c>, which fails when the name
    /// exists, because .NET's <c>File.Move(overwrite: false)</c> there checks and then renames, so two racing writers
    /// could both "win", the second replacing the first's record.
    /// </summary>
    /// <returns>False when the target existed and <paramref name="overwrite"/> was false.</returns>
    public static bool Publish(IFileSystem fs, string temp, string final, bool overwrite)
    {
        if (!overwrite && fs is FileSystem && !OperatingSystem.IsWindows())
        {
            // The target's folder nearly always exists: it is created when link(2) says it is missing. The error is
            // read at once, before any other call of this thread can replace it.
            var linked = Link(temp, final);
            var error = linked == 0 ? 0 : Marshal.GetLastPInvokeError();
            if (error == ENoEnt)
            {
                fs.Directory.CreateDirectory(fs.Path.GetDirectoryName(final)!);
                linked = Link(temp, final);
                error = linked == 0 ? 0 : Marshal.GetLastPInvokeError();
            }
            if (linked == 0)
            {
                fs.File.Delete(temp);
                return true;
            }
            if (error == EExist)
            {
                fs.File.Delete(temp);
                return false;
            }
            if (error == ENoEnt && !fs.File.Exists(temp))
            {
                // The temp file is what is missing: say which write lost it.
                throw Lost(temp, final, inner: null);
            }
            // A file system without hard links (some FUSE and network mounts): the move below, best effort.
        }
        fs.Directory.CreateDirectory(fs.Path.GetDirectoryName(final)!);
        try
        {
            fs.File.Move(temp, final, overwrite);
            return true;
        }
        catch (FileNotFoundException e) when (!fs.File.Exists(temp))
        {
            throw Lost(temp, final, e);
        }
        catch (IOException) when (!overwrite && fs.File.Exists(final))
        {
            fs.File.Delete(temp);
            return false;
        }
    }

    /// <summary>A temp file gone before its publish, named with the file it was to become (which write lost it).</summary>
    private static FileNotFoundException Lost(string temp, string final, Exception? inner) =>
        new($"Could not find file '{temp}', written to become {final}", temp, inner);

    /// <summary>
    /// Writes <paramref name="bytes"/> to <paramref name="final"/> atomically. <paramref name="durable"/> flushes the
    /// content to the disk before the rename, so after a power cut the file is either whole or absent.
    /// </summary>
    public static bool WriteBytes(IFileSystem fs, string tmpDir, string final, ReadOnlySpan<byte> bytes, bool overwrite, bool durable = false)
    {
        var stream = CreateTemp(fs, tmpDir, out var temp);
        try
        {
            using (stream)
            {
                stream.Write(bytes);
                if (durable)
                {
                    FileSync.Data(stream);
                }
            }
            return Publish(fs, temp, final, overwrite);
        }
        catch
        {
            try
            {
                fs.File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            throw;
        }
    }

    /// <summary>Makes <paramref name="created"/> a hard link to <paramref name="existing"/> where the file system can; else false.</summary>
    public static bool TryHardLink(IFileSystem fs, string existing, string created) =>
        fs is FileSystem && !OperatingSystem.IsWindows() && Link(existing, created) == 0;

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string created);
}
