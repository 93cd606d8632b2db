using System.Security.Cryptography;
using ZstdSharp;

namespace Flow.Sdk.Datastore;

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
            // At most 1 MiB at a time: zstd decodes a whole frame straight into a large buffer several times slower.
            read = inner.Read(buffer[..Math.Min(buffer.Length, 1 << 20)]);
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
