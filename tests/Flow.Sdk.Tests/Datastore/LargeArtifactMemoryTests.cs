using System.IO.Abstractions;
using System.Runtime.InteropServices;
using Flow.Sdk.Datastore;
using Flow.Tests;
using Xunit.Abstractions;

namespace Flow.Sdk.Tests.Datastore;

/// <summary>
/// Tests that measure the process's allocations run in this collection, one at a time and never next to another
/// test (whose allocations would be counted too).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasuringCollection
{
    public const string Name = "Allocation measuring";
}

/// <summary>
/// A 1 GiB artifact is stored and loaded without a second full copy: <see cref="ArtifactCodec.Store"/> writes from
/// the array itself and <see cref="ArtifactCodec.Load"/> reads straight into the one array it returns.
/// </summary>
/// <remarks>
/// Measured with <see cref="GC.GetTotalAllocatedBytes"/> (every thread: hashing and compression run on the pool),
/// which is why these tests do not run in parallel with others. The process's peak working set is not checked: it
/// covers the whole test run and cannot be reset, so it would not tell this test's peak.
/// </remarks>
[Collection(AllocationMeasuringCollection.Name)]
public sealed class LargeArtifactMemoryTests : IDisposable
{
    private const long MiB = 1 << 20;
    private const long GiB = 1L << 30;

    /// <summary>What storing or loading may allocate besides the value itself: buffers, never a copy.</summary>
    private const long Guard = 64 * MiB;

    private readonly TempDirectory _temp = new("flow-sdk-large-");
    private readonly ITestOutputHelper _output;
    private readonly BlobStore _blobs;

    public LargeArtifactMemoryTests(ITestOutputHelper output)
    {
        _output = output;
        _blobs = new BlobStore(new FileSystem(), _temp.Combine(".flow"));
    }

    public void Dispose()
    {
        _temp.Dispose();
        Directory.Exists(_temp.Path).ShouldBeFalse("the temp datastore of several GiB is deleted");
        FullCollect();
    }

    private static void FullCollect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>Runs <paramref name="action"/> and returns what it returned and the bytes the whole process allocated meanwhile.</summary>
    private static (T Result, long Allocated) Measure<T>(Func<T> action)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = action();
        return (result, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    /// <summary>Stores and loads a small value of the same kind first, so code paths and pooled buffers are warm.</summary>
    private void WarmUp<T>(T value)
    {
        var reference = ArtifactCodec.Store(_blobs, value, typeof(T));
        ArtifactCodec.Load(_blobs, reference, typeof(T));
    }

    [Fact]
    public void StoreAndLoad_OneGiBByteArray_NeitherCopiesIt()
    {
        var warm = new byte[3 * BlobStore.ChunkSize];
        new Random().NextBytes(warm);
        WarmUp(warm);
        var data = GC.AllocateUninitializedArray<byte>((int)GiB);
        new Random().NextBytes(data); // unseeded: the fast generator (a seeded Random is several times slower)
        FullCollect();

        var (reference, stored) = Measure(() => ArtifactCodec.Store(_blobs, data, typeof(byte[])));
        _output.WriteLine($"Store of a 1 GiB byte[] allocated {stored / (double)MiB:F1} MiB");

        reference.Encoding.ShouldBe("bytes");
        reference.Size.ShouldBe(GiB);
        new FileInfo(_blobs.PathOf(reference.Sha)).Length.ShouldBe(16 + GiB, "random bytes are stored raw");
        stored.ShouldBeLessThan(Guard, $"storing 1 GiB allocated {stored / MiB} MiB: the array was copied");

        var (loaded, read) = Measure(() => ArtifactCodec.Load(_blobs, reference, typeof(byte[])));
        _output.WriteLine($"Load of a 1 GiB byte[] allocated {read / (double)MiB:F1} MiB");

        read.ShouldBeGreaterThanOrEqualTo(GiB, "the loaded array itself is counted");
        read.ShouldBeLessThan(GiB + Guard, $"loading 1 GiB allocated {read / MiB} MiB: more than the one array it returns");
        var bytes = loaded.ShouldBeOfType<byte[]>();
        bytes.Length.ShouldBe(data.Length);
        bytes.AsSpan().SequenceEqual(data).ShouldBeTrue("the loaded bytes differ from the stored ones");
    }

    [Fact]
    public void StoreAndLoad_OneGiBDoubleArray_NeitherCopiesIt()
    {
        WarmUp(Enumerable.Range(0, (3 * BlobStore.ChunkSize) / 8).Select(i => (i % 4096) * 0.25).ToArray());
        const int count = 128 << 20; // 128 Mi doubles: 1 GiB
        var values = GC.AllocateUninitializedArray<double>(count);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (i % 4096) * 0.25; // compressible: stored as zstd frames, compressed in parallel
        }
        values[12_345_678] = double.NaN;
        values[^1] = -0.0;
        FullCollect();

        var (reference, stored) = Measure(() => ArtifactCodec.Store(_blobs, values, typeof(double[])));
        _output.WriteLine($"Store of a 1 GiB double[] allocated {stored / (double)MiB:F1} MiB");

        reference.Encoding.ShouldBe("array:float64");
        reference.Size.ShouldBe(GiB);
        using (var file = File.OpenRead(_blobs.PathOf(reference.Sha)))
        {
            file.Seek(4, SeekOrigin.Begin);
            file.ReadByte().ShouldBe(1, "the pattern is stored compressed");
            file.Length.ShouldBeLessThan(GiB / 4);
        }
        stored.ShouldBeLessThan(Guard, $"storing 1 GiB of doubles allocated {stored / MiB} MiB: the array was copied");

        var (loaded, read) = Measure(() => ArtifactCodec.Load(_blobs, reference, typeof(double[])));
        _output.WriteLine($"Load of a 1 GiB double[] allocated {read / (double)MiB:F1} MiB");

        read.ShouldBeGreaterThanOrEqualTo(GiB, "the loaded array itself is counted");
        read.ShouldBeLessThan(GiB + Guard, $"loading 1 GiB of doubles allocated {read / MiB} MiB: more than the one array it returns");
        var doubles = loaded.ShouldBeOfType<double[]>();
        doubles.Length.ShouldBe(count);
        MemoryMarshal.AsBytes(doubles.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(values.AsSpan())).ShouldBeTrue("the loaded doubles differ bit for bit");
    }
}
