using System.Text;
using Flow.Sdk.Datastore;
using Flow.Tests;

namespace Flow.Sdk.Tests.Datastore;

/// <summary>
/// A task's blobs become durable together (docs/datastore.md, "Durability"): none is visible before the batch is
/// committed, so no other writer can name a blob whose bytes a power cut would lose; an abandoned batch leaves nothing.
/// </summary>
public sealed class BlobBatchTests : IDisposable
{
    private readonly TempDirectory _temp = new("flow-batch-");
    private readonly FlowDatastore _store;

    public BlobBatchTests() => _store = FlowDatastore.Open(new System.IO.Abstractions.FileSystem(), _temp.Combine(".flow"), create: true);

    public void Dispose() => _temp.Dispose();

    private string[] TempFiles() => Directory.Exists(_store.TmpDir) ? Directory.GetFiles(_store.TmpDir) : [];

    [Fact]
    public void BlobsOfABatch_AreInvisibleUntilCommit_ThenAllThere()
    {
        var shas = new List<string>();
        using (var batch = _store.Blobs.BeginBatch())
        {
            for (var i = 0; i < 20; i++)
            {
                shas.Add(_store.Blobs.Put(Encoding.UTF8.GetBytes("item " + i)));
            }
            shas.ShouldAllBe(sha => !_store.Blobs.Exists(sha), "not visible before its bytes are durable");
            _store.Blobs.Put(Encoding.UTF8.GetBytes("item 3")).ShouldBe(shas[3]);
            batch.Pending.ShouldBe(20, "the same value twice in a batch is one blob");

            batch.Commit();
        }

        shas.ShouldAllBe(sha => _store.Blobs.Exists(sha));
        shas.Select(_store.Blobs.Get).Select(Encoding.UTF8.GetString).ShouldBe(Enumerable.Range(0, 20).Select(i => "item " + i));
        TempFiles().ShouldBeEmpty();
    }

    [Fact]
    public void ABatchNeverCommitted_LeavesNoBlobAndNoTempFile()
    {
        string sha;
        using (_store.Blobs.BeginBatch())
        {
            sha = _store.Blobs.Put(Encoding.UTF8.GetBytes("a task that failed before its record"));
        }

        _store.Blobs.Exists(sha).ShouldBeFalse();
        TempFiles().ShouldBeEmpty();
    }

    [Fact]
    public void ALargeBlobInABatch_IsStreamedDurably_AndPublishedWithTheBatch()
    {
        var data = new byte[(BlobStore.ChunkSize * 2) + 123];
        new Random(7).NextBytes(data);
        string sha;
        using (var batch = _store.Blobs.BeginBatch())
        {
            sha = _store.Blobs.Put(data);
            _store.Blobs.Exists(sha).ShouldBeFalse();
            batch.Commit();
        }

        _store.Blobs.Get(sha).ShouldBe(data);
    }

    [Fact]
    public async Task ABlobStoredAfterItsBatchEnded_ByATaskThatCarriesIt_IsPublished()
    {
        using var go = new ManualResetEventSlim();
        Task<string> late;
        using (var batch = _store.Blobs.BeginBatch())
        {
            late = Task.Run(() =>
            {
                go.Wait();
                return _store.Blobs.Put(Encoding.UTF8.GetBytes("stored by a task the batch outlived"));
            });
            _store.Blobs.Put(Encoding.UTF8.GetBytes("stored in the batch"));
            batch.Commit();
        }

        go.Set();
        var sha = await late;

        _store.Blobs.Exists(sha).ShouldBeTrue("a record may name it now");
        Encoding.UTF8.GetString(_store.Blobs.Get(sha)).ShouldBe("stored by a task the batch outlived");
        TempFiles().ShouldBeEmpty();
    }

    [Fact]
    public async Task ABatchDisposedWithoutCommit_ElsewhereThanItBegan_NoLongerClaimsItsBlobs()
    {
        var value = Encoding.UTF8.GetBytes("abandoned, then stored again");
        using (var outer = _store.Blobs.BeginBatch())
        {
            var inner = _store.Blobs.BeginBatch();
            _store.Blobs.Put(value);
            // Ended on another thread: here it is still the current batch.
            await Task.Run(inner.Dispose);

            var sha = _store.Blobs.Put(value);
            outer.Commit();

            _store.Blobs.Exists(sha).ShouldBeTrue("stored again, not taken as waiting in the abandoned batch");
        }
    }
}
