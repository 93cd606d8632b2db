using System.IO.Abstractions;
using System.IO.Abstractions.TestingHelpers;
using System.Security.Cryptography;
using System.Text;
using Flow.Sdk.Datastore;
using Flow.Tests;

namespace Flow.Sdk.Tests.Datastore;

public sealed class BlobStoreTests
{
    private const int HeaderSize = 16;
    private const int CodecByte = 4;

    private readonly MockFileSystem _fs = new();
    private readonly string _root;
    private readonly BlobStore _blobs;

    public BlobStoreTests()
    {
        _root = _fs.Path.Combine(_fs.Path.GetTempPath(), "store", ".flow");
        _blobs = new BlobStore(_fs, _root);
    }

    private static byte[] Compressible(int length) =>
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the same sentence, over and over again. ", (length / 40) + 1)))[..length];

    private static byte[] Random(int length, int seed = 42)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private string[] BlobFiles() =>
        _fs.Directory.Exists(_fs.Path.Combine(_root, "blobs"))
            ? _fs.Directory.GetFiles(_fs.Path.Combine(_root, "blobs"), "*", SearchOption.AllDirectories)
            : [];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(100_000)]
    public void Put_ThenGet_ReturnsTheSameBytes(int length)
    {
        var compressible = Compressible(length);
        var random = Random(length);

        _blobs.Get(_blobs.Put(compressible)).ShouldBe(compressible);
        _blobs.Get(_blobs.Put(random)).ShouldBe(random);
    }

    [Fact]
    public void Put_ReturnsSha256HexOfTheUncompressedBytes()
    {
        var data = Compressible(5000);

        var sha = _blobs.Put(data);

        sha.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(data)));
        BlobStore.Hash(data).ShouldBe(sha);
        _blobs.Exists(sha).ShouldBeTrue();
    }

    [Fact]
    public void Put_CompressibleData_IsStoredSmallerThanRaw()
    {
        var data = Compressible(50_000);

        var sha = _blobs.Put(data);

        var file = _fs.File.ReadAllBytes(_blobs.PathOf(sha));
        file.Length.ShouldBeLessThan(data.Length / 4);
        file[CodecByte].ShouldBe((byte)1, "compressible data is stored with codec zstd");
    }

    [Fact]
    public void Put_RandomData_IsStoredWithCodecRaw()
    {
        var data = Random(50_000);

        var sha = _blobs.Put(data);

        var file = _fs.File.ReadAllBytes(_blobs.PathOf(sha));
        file[CodecByte].ShouldBe((byte)0, "incompressible data is stored raw");
        file.Length.ShouldBe(HeaderSize + data.Length);
        file.AsSpan(HeaderSize).SequenceEqual(data).ShouldBeTrue();
    }

    [Fact]
    public void Put_SameBytesTwice_WritesOneBlob()
    {
        var data = Compressible(1000);

        var first = _blobs.Put(data);
        var second = _blobs.Put((byte[])data.Clone());

        second.ShouldBe(first);
        BlobFiles().ShouldHaveSingleItem();
    }

    [Fact]
    public void Put_DifferentBytes_WritesOneBlobEach()
    {
        _blobs.Put(Random(100, seed: 1)).ShouldNotBe(_blobs.Put(Random(100, seed: 2)));

        BlobFiles().Length.ShouldBe(2);
    }

    [Fact]
    public void Put_ExistingBlob_IsNotRewritten_ButMarkedAsReused()
    {
        var data = Compressible(1000);
        var sha = _blobs.Put(data);
        var path = _blobs.PathOf(sha);
        _fs.File.WriteAllBytes(path, [.. _fs.File.ReadAllBytes(path), 0x42]); // a marker a rewrite would remove
        var before = _fs.File.ReadAllBytes(path);
        var written = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        _fs.File.SetLastWriteTimeUtc(path, written);

        new BlobStore(_fs, _root).Put(data); // another writer (process) stores the same value

        _fs.File.ReadAllBytes(path).ShouldBe(before);
        _fs.File.GetLastWriteTimeUtc(path).ShouldBeGreaterThan(written, "a reused blob's time is refreshed, so gc keeps it");
    }

    [Fact]
    public void Put_SameBytesFromManyThreads_WritesOneBlobAndLeavesNoTempFile()
    {
        using var temp = new TempDirectory("flow-sdk-tests-");
        var root = temp.Combine(".flow");
        var blobs = new BlobStore(new FileSystem(), root);
        var data = Random(1 << 20);

        var shas = new string[16];
        Parallel.For(0, shas.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => shas[i] = blobs.Put(data));

        shas.Distinct().ShouldHaveSingleItem();
        Directory.GetFiles(Path.Combine(root, "blobs"), "*", SearchOption.AllDirectories).ShouldHaveSingleItem();
        var tmp = Path.Combine(root, "tmp");
        (Directory.Exists(tmp) ? Directory.GetFiles(tmp) : []).ShouldBeEmpty();
        blobs.Get(shas[0]).ShouldBe(data);
    }

    public static TheoryData<string> Kinds => ["compressible", "random"];

    private byte[] Sample(string kind) => kind == "compressible" ? Compressible(3000) : Random(300);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Get_AnyFlippedByte_IsDetectedNeverReturnedAsData(string kind)
    {
        var data = Sample(kind);
        var sha = _blobs.Put(data);
        var path = _blobs.PathOf(sha);
        var original = _fs.File.ReadAllBytes(path);

        foreach (var mask in new byte[] { 0x01, 0x80, 0xFF })
        {
            for (var position = 0; position < original.Length; position++)
            {
                var damaged = (byte[])original.Clone();
                damaged[position] ^= mask;
                _fs.File.WriteAllBytes(path, damaged);

                byte[]? returned = null;
                Exception? error = null;
                try
                {
                    returned = _blobs.Get(sha);
                }
                catch (Exception e)
                {
                    error = e;
                }

                var where = $"byte {position} of {original.Length} flipped with 0x{mask:X2}";
                if (returned is not null)
                {
                    // Only the 3 reserved header bytes may change without harm, and then the data must be intact.
                    position.ShouldBeInRange(5, 7, where + " was returned as data");
                    returned.ShouldBe(data, where);
                }
                else
                {
                    error.ShouldBeOfType<BlobCorruptException>(where);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Get_TruncatedBlob_IsDetected(string kind)
    {
        var sha = _blobs.Put(Sample(kind));
        var path = _blobs.PathOf(sha);
        var original = _fs.File.ReadAllBytes(path);

        for (var length = 0; length < original.Length; length++)
        {
            _fs.File.WriteAllBytes(path, original[..length]);

            Should.Throw<BlobCorruptException>(() => _blobs.Get(sha), $"truncated to {length} of {original.Length} bytes");
        }
    }

    [Fact]
    public void Get_BlobFileOfOtherContent_IsDetected()
    {
        var a = _blobs.Put(Compressible(500));
        var b = _blobs.Put(Random(500));
        _fs.File.Copy(_blobs.PathOf(b), _blobs.PathOf(a), overwrite: true);

        var error = Should.Throw<BlobCorruptException>(() => _blobs.Get(a));

        error.Sha.ShouldBe(a);
        error.Message.ShouldContain("does not match its hash");
    }

    [Fact]
    public void Get_MissingBlob_IsReportedAsMissing()
    {
        var sha = BlobStore.Hash("never stored"u8);

        _blobs.Exists(sha).ShouldBeFalse();
        var error = Should.Throw<BlobCorruptException>(() => _blobs.Get(sha));

        error.Message.ShouldContain("missing");
        error.Message.ShouldContain(sha[..12]);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("a")]
    public void Get_MalformedKeyFromADamagedRecord_IsReportedAsCorrupt(string sha)
    {
        Should.Throw<BlobCorruptException>(() => _blobs.Get(sha));
    }
}
