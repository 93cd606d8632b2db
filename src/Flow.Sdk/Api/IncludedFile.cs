using System.Runtime.InteropServices;
using System.Text;

namespace Flow.Sdk;

/// <summary>
/// The content of an included file as the run stored it, read as a stream: large files are never held in memory.
/// </summary>
public sealed class IncludedFile
{
    private readonly Func<Stream> _open;

    internal IncludedFile(string? name, long length, Func<Stream> open, string? sha = null, string? path = null)
    {
        Name = name;
        Length = length;
        _open = open;
        Sha = sha;
        SourcePath = path;
    }

    /// <summary>
    /// A file on disk to keep as an artifact (<c>Model = IncludedFile.FromFile("model.zip")</c>): stored by streaming
    /// when the task ends, whatever its size, and read back as a stream.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The file, to assign to an artifact of type <see cref="IncludedFile"/>.</returns>
    public static IncludedFile FromFile(string path)
    {
        var full = Path.GetFullPath(path);
        // A pipe or a device (/dev/zero, /dev/urandom) never ends: storing it would read forever. Refused by its
        // type, asked without opening it (opening a pipe blocks until a writer appears).
        var kind = FileKind.Of(full);
        if (kind is FileKind.Kind.Directory or FileKind.Kind.Special)
        {
            throw new ArgumentException($"IncludedFile.FromFile: {full} is {FileKind.Describe(full, kind)}, not a regular file; only a regular file can be stored (copy the data into one first).", nameof(path));
        }
        if (kind is FileKind.Kind.Denied)
        {
            throw new UnauthorizedAccessException($"IncludedFile.FromFile: this user may not reach {full} (one of its folders is not searchable).");
        }
        var info = new FileInfo(full);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"IncludedFile.FromFile: {full} does not exist.", full);
        }
        return new IncludedFile(Path.GetFileName(full), info.Length, () => File.OpenRead(full), path: full);
    }

    /// <summary>Gets the blob key when the content is already in the datastore.</summary>
    internal string? Sha { get; }

    /// <summary>Gets the file on disk the content comes from, when it is not stored yet.</summary>
    internal string? SourcePath { get; }

    /// <summary>Gets a file with no content and no name: the value when no path was given.</summary>
    public static IncludedFile Empty { get; } = new(null, 0, () => Stream.Null);

    /// <summary>Gets the path the file was given as (on the command line, in the environment or as the default), or null.</summary>
    public string? Name { get; }

    /// <summary>Gets the length of the content in bytes.</summary>
    public long Length { get; }

    /// <summary>Opens the stored content for reading; the bytes are checked against their hash as they are read.</summary>
    /// <returns>A read-only stream; dispose it.</returns>
    public Stream OpenRead() => _open();

    /// <summary>Reads the whole content as bytes.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ReadAllBytes()
    {
        using var stream = OpenRead();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Reads the whole content as text.</summary>
    /// <param name="encoding">The encoding (default UTF-8; a byte-order mark wins).</param>
    /// <returns>The text.</returns>
    public string ReadAllText(Encoding? encoding = null)
    {
        using var reader = new StreamReader(OpenRead(), encoding ?? Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name ?? "(no file)"} ({Length} bytes)";
}

/// <summary>
/// What a path names, asked of the file system without opening it. An included file must be a regular file: a
/// device such as /dev/zero or /dev/urandom never ends (storing it would read forever), and opening a named pipe
/// for reading blocks until a writer appears, so the type has to be known before the file is opened.
/// </summary>
/// <remarks>
/// .NET has no public API for the file type on Unix (<see cref="FileAttributes"/> tells only a folder from the
/// rest), so Linux is asked with <c>statx(2)</c> through LibraryImport, like <c>FileSync</c>'s <c>fsync</c>: unlike
/// <c>stat</c>'s, its struct has the same layout on every architecture, and only <c>stx_mode</c> (a 16-bit field at
/// byte 28 of a 256-byte struct) is read. A bounded read was the alternative, but it cannot help with a pipe
/// (the open itself blocks). Where statx does not exist (macOS, Windows, a C library without it) only folders are
/// told apart from files, and a pipe or device there is read like a file.
/// </remarks>
internal static partial class FileKind
{
    /// <summary>The kinds a caller tells apart.</summary>
    public enum Kind
    {
        /// <summary>Nothing at the path (or a folder of it is a file).</summary>
        Missing,

        /// <summary>A regular file (a link to one included).</summary>
        Regular,

        /// <summary>A folder.</summary>
        Directory,

        /// <summary>A named pipe, a device or a socket: not a file with an end.</summary>
        Special,

        /// <summary>This user may not look at the path (a folder of it is not searchable).</summary>
        Denied,

        /// <summary>Not known: statx is not available here, or failed for another reason.</summary>
        Unknown,
    }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int NoSuchEntry = 2; // ENOENT
    private const int AccessDenied = 13; // EACCES
    private const int NotADirectory = 20; // ENOTDIR
    private const int TypeMask = 0xF000;

    private static bool s_unavailable;

    /// <summary>The kind of what <paramref name="path"/> names, following symbolic links.</summary>
    public static Kind Of(string path)
    {
        var mode = Mode(path, out var errno);
        if (mode is null)
        {
            return errno switch
            {
                NoSuchEntry or NotADirectory => Kind.Missing,
                AccessDenied => Kind.Denied,
                _ when Directory.Exists(path) => Kind.Directory,
                _ when File.Exists(path) => Kind.Unknown,
                _ when errno < 0 => Kind.Missing,
                _ => Kind.Unknown,
            };
        }
        return (mode.Value & TypeMask) switch
        {
            0x8000 => Kind.Regular,
            0x4000 => Kind.Directory,
            _ => Kind.Special,
        };
    }

    /// <summary>"a folder", "a named pipe (FIFO)", "a character device", ... for an error line.</summary>
    public static string Describe(string path, Kind kind) => kind switch
    {
        Kind.Directory => "a folder",
        Kind.Special => ((Mode(path, out _) ?? 0) & TypeMask) switch
        {
            0x1000 => "a named pipe (FIFO)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => "a special file",
        },
        _ => "a special file",
    };

    /// <summary>The <c>st_mode</c> of the path, or null with the errno (-1 when statx is not available).</summary>
    private static int? Mode(string path, out int errno)
    {
        errno = -1;
        if (s_unavailable || !OperatingSystem.IsLinux())
        {
            return null;
        }
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, out var buffer) == 0)
            {
                return buffer.Mode;
            }
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            s_unavailable = true;
            return null;
        }
    }

    /// <summary>struct statx: 256 bytes; <c>stx_mode</c> at byte 28 (after mask, blksize, attributes, nlink, uid, gid).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(28)]
        public ushort Mode;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, out StatxBuffer buffer);
}
