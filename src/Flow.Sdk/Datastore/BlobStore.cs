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

    /// <summary>
    /// Stores a file's bytes as a blob without holding them in memory: one pass hashes it, and only when the blob
    /// is new a second pass streams it through the compressor (or raw, when a sample of it hardly compresses).
    /// </summary>
    /// <returns>The hash and the length of the content.</returns>
    public (string Sha, long Length) PutFile(string path)
    {
        const int bufferSize = 1 << 20;
        string sha;
        long length = 0;
        var buffer = new byte[bufferSize];
        using (var input = _fs.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize))
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            int read;
            while ((read = input.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                length += read;
            }
            sha = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        if (Exists(sha))
        {
            return (sha, length);
        }

        var temp = AtomicFile.TempPath(_fs, _tmp);
        using (var input = _fs.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize))
        using (var output = _fs.FileStream.New(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize))
        {
            var sample = input.Read(buffer);
            var compress = false;
            if (sample >= 64)
            {
                using var compressor = new Compressor(CompressionLevel);
                var candidate = compressor.Wrap(buffer.AsSpan(0, sample));
                compress = candidate.Length < sample - (sample / 32);
            }
            Span<byte> header = stackalloc byte[HeaderSize];
            Magic.CopyTo(header);
            header[4] = compress ? CodecZstd : CodecRaw;
            BinaryPrimitives.WriteInt64LittleEndian(header[8..], length);
            output.Write(header);
            using (Stream sink = compress ? new CompressionStream(output, CompressionLevel, leaveOpen: true) : new NonClosing(output))
            {
                var read = sample;
                long copied = 0;
                while (read > 0)
                {
                    sink.Write(buffer, 0, read);
                    copied += read;
                    read = input.Read(buffer);
                }
                if (copied != length)
                {
                    throw new IOException($"{path} changed while it was being stored");
                }
            }
        }
        AtomicFile.Publish(_fs, temp, PathOf(sha), overwrite: false);
        return (sha, length);
    }

    /// <summary>
    /// Opens a blob for reading as a stream; the bytes are verified against the hash as they are read, and a
    /// damaged or truncated blob throws <see cref="BlobCorruptException"/> at the latest when its end is reached.
    /// </summary>
    /// <returns>A read-only stream of the blob's uncompressed bytes.</returns>
    public Stream OpenRead(string sha)
    {
        var path = PathOf(sha);
        Stream file;
        try
        {
            file = _fs.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobCorruptException(sha, "the blob is missing");
        }
        Span<byte> header = stackalloc byte[HeaderSize];
        if (file.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) < HeaderSize || !header[..4].SequenceEqual(Magic) || header[4] > CodecZstd)
        {
            file.Dispose();
            throw new BlobCorruptException(sha, "the blob header is damaged");
        }
        var length = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        Stream content = header[4] == CodecZstd ? new DecompressionStream(file, leaveOpen: false) : file;
        return new VerifyingStream(content, sha, length);
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

/// <summary>Passes writes through but leaves the inner stream open when disposed.</summary>
internal sealed class NonClosing(Stream inner) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
}

/// <summary>A read-only stream over a blob's content that checks its length and hash when the end is reached.</summary>
internal sealed class VerifyingStream(Stream inner, string sha, long length) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _verified;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = inner.Read(buffer);
        }
        catch (Exception e) when (e is ZstdException or InvalidDataException or EndOfStreamException)
        {
            throw new BlobCorruptException(sha, "the compressed data is damaged or cut short: " + e.Message);
        }
        _hash.AppendData(buffer[..read]);
        _read += read;
        if (_read > length)
        {
            throw new BlobCorruptException(sha, "its content is longer than recorded");
        }
        if (read == 0 && buffer.Length > 0 && !_verified)
        {
            _verified = true;
            if (_read != length || Convert.ToHexStringLower(_hash.GetHashAndReset()) != sha)
            {
                throw new BlobCorruptException(sha, "its content does not match its hash (truncated or modified)");
            }
        }
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>A blob that is missing or whose bytes do not match its hash.</summary>
internal sealed class BlobCorruptException(string sha, string reason)
    : Exception($"blob {(sha.Length > 12 ? sha[..12] : sha)} is damaged: {reason}")
{
    public string Sha { get; } = sha;
}
