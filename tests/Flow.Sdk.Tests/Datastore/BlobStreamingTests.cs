using System.Buffers.Binary;
using System.IO.Abstractions;
using System.Security.Cryptography;
using System.Text;
using Flow.Sdk.Datastore;
using Flow.Tests;

namespace Flow.Sdk.Tests.Datastore;

/// <summary><see cref="BlobStore.PutFile"/> and <see cref="BlobStore.OpenRead"/> on a real folder.</summary>
public sealed class BlobStreamingTests : IDisposable
{
    private const int HeaderSize = 16;
    private const int CodecByte = 4;
    private const int MiB = 1 << 20;

    private readonly TempDirectory _temp = new("flow-sdk-tests-");
    private readonly string _root;
    private readonly BlobStore _blobs;

    public BlobStreamingTests()
    {
        _root = _temp.Combine(".flow");
        _blobs = new BlobStore(new FileSystem(), _root);
    }

    public void Dispose() => _temp.Dispose();

    private static byte[] Compressible(int length) =>
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the same sentence, over and over again. ", (length / 40) + 1)))[..length];

    private static byte[] Random(int length, int seed = 42)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Data(string kind, int length) => kind == "compressible" ? Compressible(length) : Random(length);

    private string WriteSource(byte[] bytes, string name = "source.bin")
    {
        var path = _temp.Combine(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string[] BlobFiles() =>
        Directory.Exists(Path.Combine(_root, "blobs")) ? Directory.GetFiles(Path.Combine(_root, "blobs"), "*", SearchOption.AllDirectories) : [];

    private string[] TempFiles() =>
        Directory.Exists(Path.Combine(_root, "tmp")) ? Directory.GetFiles(Path.Combine(_root, "tmp")) : [];

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
    }

    /// <summary>Reads a blob to its end in small pieces, as a step reading an included file would.</summary>
    private byte[] ReadInPieces(string sha, int piece = 1000)
    {
        using var stream = _blobs.OpenRead(sha);
        using var buffer = new MemoryStream();
        var chunk = new byte[piece];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public static TheoryData<string, int> Sizes => new()
    {
        { "compressible", 0 },
        { "compressible", 1 },
        { "compressible", 63 },
        { "compressible", 64 },
        { "compressible", 100_000 },
        { "compressible", (5 * MiB) + 17 },
        { "random", 1 },
        { "random", 64 },
        { "random", 100_000 },
        { "random", (3 * MiB) + 5 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void PutFile_ThenOpenRead_ReturnsTheSameBytes(string kind, int length)
    {
        var data = Data(kind, length);

        var (sha, size) = _blobs.PutFile(WriteSource(data));

        size.ShouldBe(length);
        sha.ShouldBe(BlobStore.Hash(data));
        sha.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(data)));
        ReadAll(_blobs.OpenRead(sha)).ShouldBe(data);
        ReadInPieces(sha).ShouldBe(data);
        _blobs.Get(sha).ShouldBe(data);
        TempFiles().ShouldBeEmpty();
    }

    [Fact]
    public void PutFile_EmptyFile_IsTheEmptyBlob()
    {
        var (sha, size) = _blobs.PutFile(WriteSource([]));

        size.ShouldBe(0);
        sha.ShouldBe(BlobStore.Hash([]));
        ReadAll(_blobs.OpenRead(sha)).ShouldBeEmpty();
        _blobs.Get(sha).ShouldBeEmpty();
        var file = File.ReadAllBytes(_blobs.PathOf(sha));
        file.Length.ShouldBe(HeaderSize);
        file.AsSpan(0, 4).SequenceEqual("FLB1"u8).ShouldBeTrue();
    }

    [Fact]
    public void PutFile_AndPut_AgreeOnTheKeyAndShareTheBlob()
    {
        var data = Compressible(200_000);

        var put = _blobs.Put(data);
        var (sha, _) = _blobs.PutFile(WriteSource(data));

        sha.ShouldBe(put);
        BlobFiles().ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData("compressible")]
    [InlineData("random")]
    public void PutFile_ExistingBlob_IsNotRewritten_ButMarkedAsReused(string kind)
    {
        var data = Data(kind, 300_000);
        var source = WriteSource(data);
        var (sha, _) = _blobs.PutFile(source);
        var path = _blobs.PathOf(sha);
        var written = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.WriteAllBytes(path, [.. File.ReadAllBytes(path), 0x42]); // a marker a rewrite would remove
        File.SetLastWriteTimeUtc(path, written);
        var before = File.ReadAllBytes(path);

        var again = new BlobStore(new FileSystem(), _root).PutFile(WriteSource(data, "copy.bin")); // another writer

        again.Sha.ShouldBe(sha);
        again.Length.ShouldBe(data.Length);
        File.ReadAllBytes(path).ShouldBe(before);
        File.GetLastWriteTimeUtc(path).ShouldBeGreaterThan(written, "a reused blob's time is refreshed, so gc keeps it");
        BlobFiles().ShouldHaveSingleItem();
        TempFiles().ShouldBeEmpty();
    }

    [Fact]
    public void PutFile_BlobStoredByPut_IsNotRewritten()
    {
        var data = Random(10_000);
        var sha = _blobs.Put(data);
        var path = _blobs.PathOf(sha);
        File.WriteAllBytes(path, [.. File.ReadAllBytes(path), 0x42]);
        var before = File.ReadAllBytes(path);

        _blobs.PutFile(WriteSource(data)).Sha.ShouldBe(sha);

        File.ReadAllBytes(path).ShouldBe(before);
    }

    [Fact]
    public void PutFile_RandomData_IsStoredRaw()
    {
        var data = Random((2 * MiB) + 3);

        var (sha, _) = _blobs.PutFile(WriteSource(data));

        var file = File.ReadAllBytes(_blobs.PathOf(sha));
        file[CodecByte].ShouldBe((byte)0, "incompressible data is stored raw");
        file.Length.ShouldBe(HeaderSize + data.Length);
        BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8)).ShouldBe(data.Length);
        file.AsSpan(HeaderSize).SequenceEqual(data).ShouldBeTrue();
    }

    [Fact]
    public void PutFile_Text_IsStoredCompressed()
    {
        var data = Compressible((2 * MiB) + 3);

        var (sha, _) = _blobs.PutFile(WriteSource(data));

        var file = File.ReadAllBytes(_blobs.PathOf(sha));
        file[CodecByte].ShouldBe((byte)1, "text is stored with codec zstd");
        file.Length.ShouldBeLessThan(data.Length / 4);
        BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(8)).ShouldBe(data.Length);
    }

    [Fact]
    public void PutFile_MissingFile_ThrowsAnIOExceptionAndStoresNothing()
    {
        Should.Throw<IOException>(() => _blobs.PutFile(_temp.Combine("missing.bin")));

        BlobFiles().ShouldBeEmpty();
    }

    [Theory]
    [InlineData("compressible", 100_000)]
    [InlineData("random", 100_000)]
    [InlineData("compressible", 0)]
    public void OpenRead_AndGet_Agree(string kind, int length)
    {
        var data = Data(kind, length);
        var viaPut = _blobs.Put(data);
        var viaFile = _blobs.PutFile(WriteSource(data)).Sha;

        viaFile.ShouldBe(viaPut);
        ReadAll(_blobs.OpenRead(viaPut)).ShouldBe(_blobs.Get(viaPut));
    }

    [Fact]
    public void OpenRead_StreamReportsTheLengthAndIsReadOnly()
    {
        var data = Compressible(12_345);
        var (sha, _) = _blobs.PutFile(WriteSource(data));

        using var stream = _blobs.OpenRead(sha);

        stream.Length.ShouldBe(data.Length);
        stream.CanRead.ShouldBeTrue();
        stream.CanWrite.ShouldBeFalse();
        stream.CanSeek.ShouldBeFalse();
    }

    [Fact]
    public void OpenRead_MissingBlob_IsReportedAsMissing()
    {
        var sha = BlobStore.Hash("never stored"u8);

        Should.Throw<BlobCorruptException>(() => _blobs.OpenRead(sha)).Message.ShouldContain("missing");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("../../etc/passwd")]
    public void OpenRead_MalformedKey_IsReportedAsCorrupt(string sha)
    {
        Should.Throw<BlobCorruptException>(() => _blobs.OpenRead(sha));
    }

    public static TheoryData<string> Kinds => ["compressible", "random"];

    /// <summary>Opens and reads a blob to the end; returns the bytes, or the exception opening or reading threw.</summary>
    private (byte[]? Data, Exception? Error) TryReadToTheEnd(string sha)
    {
        try
        {
            return (ReadInPieces(sha, 100), null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    /// <summary>
    /// Flips every byte of a small blob in turn (with three masks) and reads it to the end each time: reading throws
    /// <see cref="BlobCorruptException"/> or returns exactly the stored data, never other bytes and never another exception.
    /// </summary>
    /// <param name="data">The content.</param>
    /// <param name="strict">When set, only the 3 reserved header bytes may change without an error.</param>
    private void EveryFlippedByteIsDetectedOrHarmless(byte[] data, bool strict)
    {
        var (sha, _) = _blobs.PutFile(WriteSource(data));
        var path = _blobs.PathOf(sha);
        var original = File.ReadAllBytes(path);

        foreach (var mask in new byte[] { 0x01, 0x80, 0xFF })
        {
            for (var position = 0; position < original.Length; position++)
            {
                var damaged = (byte[])original.Clone();
                damaged[position] ^= mask;
                File.WriteAllBytes(path, damaged);

                var (returned, error) = TryReadToTheEnd(sha);

                var where = $"byte {position} of {original.Length} flipped with 0x{mask:X2}";
                if (returned is not null)
                {
                    if (strict || position is >= 5 and <= 7)
                    {
                        position.ShouldBeInRange(5, 7, where + " was returned as data");
                    }
                    // Else a zstd frame field that does not change the content (the window size): the hash vouches for it.
                    returned.ShouldBe(data, where);
                }
                else
                {
                    error.ShouldBeOfType<BlobCorruptException>(where + ": " + error);
                }
            }
        }
    }

    /// <summary>Cuts a small blob at every length in turn: reading it to the end always throws <see cref="BlobCorruptException"/>.</summary>
    private void EveryTruncationIsDetected(byte[] data)
    {
        var (sha, _) = _blobs.PutFile(WriteSource(data));
        var path = _blobs.PathOf(sha);
        var original = File.ReadAllBytes(path);

        for (var length = 0; length < original.Length; length++)
        {
            File.WriteAllBytes(path, original[..length]);

            var (returned, error) = TryReadToTheEnd(sha);

            var where = $"truncated to {length} of {original.Length} bytes";
            returned.ShouldBeNull(where + " was returned as data");
            error.ShouldBeOfType<BlobCorruptException>(where + ": " + error);
        }
    }

    private void LargeBlobCutShortIsDetected(string kind)
    {
        var data = Data(kind, 4 * MiB);
        var (sha, _) = _blobs.PutFile(WriteSource(data));
        var path = _blobs.PathOf(sha);
        var original = File.ReadAllBytes(path);
        File.WriteAllBytes(path, original[..(original.Length - 1)]);

        var (returned, error) = TryReadToTheEnd(sha);

        returned.ShouldBeNull();
        error.ShouldBeOfType<BlobCorruptException>(error?.ToString());
        Should.Throw<BlobCorruptException>(() => _blobs.Get(sha));
    }

    [Fact]
    public void OpenRead_AnyFlippedByteOfARawBlob_IsDetectedByTheEndOfReading() =>
        EveryFlippedByteIsDetectedOrHarmless(Random(300), strict: true);

    [Fact]
    public void OpenRead_AnyFlippedByteOfACompressedBlob_IsDetectedByTheEndOfReading() =>
        EveryFlippedByteIsDetectedOrHarmless(Compressible(3000), strict: false);

    [Fact]
    public void OpenRead_TruncatedRawBlob_IsDetectedByTheEndOfReading() => EveryTruncationIsDetected(Random(300));

    [Fact]
    public void OpenRead_TruncatedCompressedBlob_IsDetectedByTheEndOfReading() => EveryTruncationIsDetected(Compressible(3000));

    [Fact]
    public void OpenRead_LargeRawBlobCutShort_IsDetected() => LargeBlobCutShortIsDetected("random");

    [Fact]
    public void OpenRead_LargeCompressedBlobCutShort_IsDetected() => LargeBlobCutShortIsDetected("compressible");

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OpenRead_LargeBlobWithAFlippedByteInTheMiddle_IsDetected(string kind)
    {
        var data = Data(kind, 4 * MiB);
        var (sha, _) = _blobs.PutFile(WriteSource(data));
        var path = _blobs.PathOf(sha);
        var damaged = File.ReadAllBytes(path);
        damaged[HeaderSize + ((damaged.Length - HeaderSize) / 2)] ^= 0x10;
        File.WriteAllBytes(path, damaged);

        var (returned, error) = TryReadToTheEnd(sha);

        returned.ShouldBeNull();
        error.ShouldBeOfType<BlobCorruptException>(error?.ToString());
        Should.Throw<BlobCorruptException>(() => _blobs.Get(sha));
    }

    [Fact]
    public void OpenRead_BlobFileOfOtherContent_IsDetected()
    {
        var a = _blobs.PutFile(WriteSource(Compressible(5000), "a.bin")).Sha;
        var b = _blobs.PutFile(WriteSource(Random(5000), "b.bin")).Sha;
        File.Copy(_blobs.PathOf(b), _blobs.PathOf(a), overwrite: true);

        var (returned, error) = TryReadToTheEnd(a);

        returned.ShouldBeNull();
        error.ShouldBeOfType<BlobCorruptException>().Sha.ShouldBe(a);
    }

    /// <summary>Writes <paramref name="length"/> bytes to a file in 1 MiB pieces and returns their SHA-256.</summary>
    private static string Generate(string path, long length, bool random)
    {
        var piece = new byte[MiB];
        var text = Compressible(MiB);
        var rng = new Random(7);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        for (long written = 0; written < length; written += MiB)
        {
            if (random)
            {
                rng.NextBytes(piece);
            }
            var source = random ? piece : text;
            var count = (int)Math.Min(MiB, length - written);
            output.Write(source, 0, count);
            hash.AppendData(source, 0, count);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    [Theory]
    [InlineData(false, 256)]
    [InlineData(true, 96)]
    public void PutFile_AndOpenRead_OfALargeFile_DoNotHoldItInMemory(bool random, int mebibytes)
    {
        var source = _temp.Combine("large.bin");
        var length = (long)mebibytes * MiB;
        var expected = Generate(source, length, random);
        const long guard = 64L * MiB;

        // Allocations of this thread only: tests of other classes run in parallel on other threads.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var (sha, size) = _blobs.PutFile(source);
        var stored = GC.GetAllocatedBytesForCurrentThread() - before;

        sha.ShouldBe(expected);
        size.ShouldBe(length);
        stored.ShouldBeLessThan(guard, $"storing {mebibytes} MiB allocated {stored / MiB} MiB");
        var blobLength = new FileInfo(_blobs.PathOf(sha)).Length;
        if (random)
        {
            blobLength.ShouldBe(HeaderSize + length, "random data is stored raw");
        }
        else
        {
            blobLength.ShouldBeLessThan(length / 100, "text is stored compressed");
        }

        before = GC.GetAllocatedBytesForCurrentThread();
        using (var stream = _blobs.OpenRead(sha))
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            var buffer = new byte[MiB];
            long total = 0;
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }
            total.ShouldBe(length);
            Convert.ToHexStringLower(hash.GetHashAndReset()).ShouldBe(expected);
        }
        var readBack = GC.GetAllocatedBytesForCurrentThread() - before;

        readBack.ShouldBeLessThan(guard, $"reading {mebibytes} MiB allocated {readBack / MiB} MiB");
    }
}
