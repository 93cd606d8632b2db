using System.Buffers.Binary;
using System.IO.Abstractions;
using System.Security.Cryptography;
using ZstdSharp;

namespace Flow.Sdk.Datastore;

/// <summary>
/// The content-addressed store: one file per distinct serialized value, keyed by the SHA-256 of its
/// uncompressed bytes, zstd-compressed unless that saves too little, written atomically, verified on read.
/// </summary>
/// <remarks>
/// A blob file is a 16-byte header (<c>FLB1</c>, codec byte, 3 reserved bytes, uncompressed length as a
/// little-endian int64) followed by the payload. Blobs are immutable: a blob that exists is never written again.
/// </remarks>
internal sealed class BlobStore
{
    private const int HeaderSize = 16;
    private const byte CodecRaw = 0;
    private const byte CodecZstd = 1;
    private const int CompressionLevel = 3;
    private static ReadOnlySpan<byte> Magic => "FLB1"u8;

    private readonly IFileSystem _fs;
    private readonly string _blobs;
    private readonly string _tmp;

    public BlobStore(IFileSystem fs, string datastoreRoot)
    {
        _fs = fs;
        _blobs = fs.Path.Combine(datastoreRoot, "blobs");
        _tmp = fs.Path.Combine(datastoreRoot, "tmp");
    }

    public static string Hash(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>A blob key is 64 lowercase hex digits; anything else (a damaged record) never becomes a path.</summary>
    public static bool IsKey(string sha) => sha.Length == 64 && sha.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    public string PathOf(string sha) => IsKey(sha) ? _fs.Path.Combine(_blobs, sha[..2], sha) : throw new BlobCorruptException(sha, "its key is not a SHA-256");

    public bool Exists(string sha) => _fs.File.Exists(PathOf(sha));

    /// <summary>Stores <paramref name="data"/> unless a blob with its hash exists; returns the hash.</summary>
    public string Put(ReadOnlySpan<byte> data)
    {
        var sha = Hash(data);
        if (!Exists(sha))
        {
            Write(sha, data);
        }
        return sha;
    }

    private void Write(string sha, ReadOnlySpan<byte> data)
    {
        byte[]? compressed = null;
        if (data.Length >= 64)
        {
            using var compressor = new Compressor(CompressionLevel);
            var candidate = compressor.Wrap(data).ToArray();
            // Incompressible data (already compressed, random) is stored raw: reading it back is then a copy.
            if (candidate.Length < data.Length - (data.Length / 32))
            {
                compressed = candidate;
            }
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        header[4] = compressed is null ? CodecRaw : CodecZstd;
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], data.Length);

        var final = PathOf(sha);
        var temp = AtomicFile.TempPath(_fs, _tmp);
        using (var stream = _fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(header);
            stream.Write(compressed is null ? data : compressed);
        }
        AtomicFile.Publish(_fs, temp, final, overwrite: false);
    }

    /// <summary>Reads and verifies a blob; a missing, truncated or corrupt blob throws <see cref="BlobCorruptException"/>.</summary>
    public byte[] Get(string sha)
    {
        var path = PathOf(sha);
        byte[] file;
        try
        {
            file = _fs.File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobCorruptException(sha, "the blob is missing");
        }

        if (file.Length < HeaderSize || !file.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new BlobCorruptException(sha, "the blob header is damaged");
        }
        var length = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8));
        byte[] data;
        try
        {
            data = file[4] switch
            {
                CodecRaw => file[HeaderSize..],
                CodecZstd => Decompress(file.AsSpan(HeaderSize), length),
                _ => throw new BlobCorruptException(sha, $"unknown codec {file[4]}"),
            };
        }
        catch (Exception e) when (e is ZstdException or InvalidDataException)
        {
            throw new BlobCorruptException(sha, "the compressed data is damaged: " + e.Message);
        }
        if (data.Length != length || Hash(data) != sha)
        {
            throw new BlobCorruptException(sha, "its content does not match its hash (truncated or modified)");
        }
        return data;
    }

    private static byte[] Decompress(ReadOnlySpan<byte> payload, long length)
    {
        if (length < 0 || length > Array.MaxLength)
        {
            throw new InvalidDataException("impossible length");
        }
        using var decompressor = new Decompressor();
        var data = new byte[length];
        var written = decompressor.Unwrap(payload, data);
        return written == length ? data : data[..written];
    }
}

/// <summary>A blob that is missing or whose bytes do not match its hash.</summary>
internal sealed class BlobCorruptException(string sha, string reason)
    : Exception($"blob {(sha.Length > 12 ? sha[..12] : sha)} is damaged: {reason}")
{
    public string Sha { get; } = sha;
}
