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
