using System.Diagnostics;
using System.Globalization;
using System.IO.Abstractions;
using Flow.Sdk;
using Flow.Sdk.Datastore;

// bench/ClientBench fixture DIR   writes BenchFlow with 10,000 runs (every 7th failed) and FiftyFlow with 50 runs
// bench/ClientBench measure DIR   in this (fresh) process: the newest 20 runs of BenchFlow and its latest
//                                 successful run; then FiftyFlow's 50 runs with one artifact read from each
// bench/ClientBench rebuild DIR   the same listing after the run index was deleted (it is rebuilt from the folders)
var mode = args[0];
var root = Path.GetFullPath(args[1]);
if (mode == "fixture")
{
    var store = FlowDatastore.Open(new FileSystem(), root, create: true);
    var start = DateTimeOffset.UtcNow.AddDays(-30);
    Write(store, "BenchFlow", 10_000, start, i => i % 7 == 0 ? "failed" : "succeeded");
    Write(store, "FiftyFlow", 50, start, _ => "succeeded");
    return 0;
}
FlowClient.UseDatastore(root);
FlowClient.Namespace = Namespace.Global;
if (mode == "rebuild")
{
    File.Delete(Path.Combine(root, "runs", "BenchFlow", "index.jsonl"));
}
var clock = Stopwatch.StartNew();
var flow = FlowClient.GetFlow("BenchFlow");
var newest = flow.Runs.Take(20).Select(r => (r.Id, r.Successful, r.StartedAt)).ToList();
var latest = flow.LatestSuccessfulRun!.Id;
var bench = clock.Elapsed.TotalMilliseconds;
clock.Restart();
var values = FlowClient.GetFlow("FiftyFlow").Runs.Take(50).Select(r => r["Start"].Task.Data<int>("Score")).ToList();
var fifty = clock.Elapsed.TotalMilliseconds;
if (newest.Count != 20 || values.Count != 50 || values.Distinct().Count() != 50)
{
    Console.Error.WriteLine("wrong results");
    return 1;
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bench:0} {fifty:0} {latest}"));
return 0;

static void Write(FlowDatastore store, string flowName, int count, DateTimeOffset start, Func<int, string> status)
{
    var shared = ArtifactCodec.Store(store.Blobs, "the same in every run", typeof(string));
    for (var i = 0; i < count; i++)
    {
        var at = start.AddSeconds(i * 60);
        var id = store.CreateRun(flowName, at);
        var parameter = ArtifactCodec.Store(store.Blobs, i % 10, typeof(int));
        store.WriteRun(new RunRecord(flowName, id, at, "bench", "", "0.0.0", "/", new Dictionary<string, ArtifactRef> { ["Fold"] = parameter }, ["user:bench", "runtime:local"]));
        var dir = store.AttemptDir(flowName, id, "Start", "1", 0);
        store.StartAttempt(dir, new AttemptStartRecord(at, []));
        var score = ArtifactCodec.Store(store.Blobs, i, typeof(int));
        store.FinishAttempt(dir, new AttemptDoneRecord(AttemptDoneRecord.Succeeded, at, new Dictionary<string, ArtifactRef> { ["Score"] = score, ["Note"] = shared, ["Fold"] = parameter }, ["End"]));
        store.WriteRunEnd(flowName, id, new RunEndRecord(status(i), at.AddSeconds(30)));
    }
}
