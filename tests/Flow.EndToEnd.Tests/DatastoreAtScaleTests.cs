using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flow.Sdk;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// The datastore through the packed tool (Store/StoreFlows.cs): artifacts beyond JSON (a user serializer, a stream,
/// a file, a large array), several runs of two flows writing into one datastore at once while a client reads it,
/// and gc with retention and --dry-run.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class DatastoreAtScaleTests(PackedProduct product)
{
    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    private static string RunId(ProcessResult result) => RunStarted().Match(result.Stdout).Groups[1].Value;

    [Fact]
    public void StoreFlow_UserSerializerStreamFileAndArray_RoundTripBetweenSteps()
    {
        var dir = StoreProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "StoreFlow");

        run.ExitCode.ShouldBe(0, run.ToString());
        long sum = 0;
        for (var i = 0; i < 5 << 20; i++)
        {
            sum += (byte)(i * 7 % 251);
        }
        var expected = $"quadratic 17 | blob {5 << 20} {sum} | accuracy 0.93 (14 bytes) | series 2000000 {1999999 / 3.0}";
        run.Stdout.ShouldContain(expected);
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var start = FlowClient.GetRun($"StoreFlow/{RunId(run)}")["Start"].Task;
        start.Data<double[]>("Series").Length.ShouldBe(2_000_000);
        using (var blob = start.Data<Stream>("Blob"))
        {
            blob.Length.ShouldBe(5 << 20);
        }
        start.Data<IncludedFile>("Report").ReadAllText().ShouldBe("accuracy 0.93\n");
    }

    [Fact]
    public void UserSerializedArtifact_WithoutItsSerializer_SaysSo_AndDumpShowsItsSerializer()
    {
        var dir = StoreProject.Get(product);
        var run = product.Flow(dir, "run", "--flow", "StoreFlow");
        run.ExitCode.ShouldBe(0, run.ToString());

        var dump = product.Flow(dir, "dump", $"StoreFlow/{RunId(run)}/Start", "--json", "--include", "Model");
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var model = FlowClient.GetRun($"StoreFlow/{RunId(run)}")["Start"].Task["Model"];

        dump.ExitCode.ShouldBe(0, dump.ToString());
        using (var json = JsonDocument.Parse(dump.Stdout))
        {
            var value = json.RootElement.EnumerateObject().Single().Value.GetProperty("Model");
            value.GetProperty("$serializer").GetString().ShouldBe("tiny-model-v1");
            value.GetProperty("size").GetInt64().ShouldBeGreaterThan(0);
        }
        var error = Should.Throw<FlowException>(() => model.Value<object>());
        error.Message.ShouldContain("'tiny-model-v1'");
        error.Message.ShouldContain("not registered");
        model.Type.ShouldBe("TinyModel");
    }

    [Fact]
    public void FourRunsOfTwoFlows_WritingAtOnce_WhileAClientReads_AllComplete_AndVerify()
    {
        var dir = StoreProject.Get(product);
        var launches = new[] { ("StressFlow", 1), ("StressFlow", 2), ("OtherStressFlow", 3), ("OtherStressFlow", 4) };

        var runs = launches.Select(l => Task.Run(() => product.Flow(dir, "run", "--flow", l.Item1, "--salt", l.Item2.ToString(CultureInfo.InvariantCulture), "--max-num-splits", "200", "--verbose"))).ToArray();
        var all = Task.WhenAll(runs);
        var reads = 0;
        var errors = new List<string>();
        var opened = false;
        while (!all.IsCompleted)
        {
            try
            {
                if (!opened)
                {
                    if (!File.Exists(Path.Combine(dir, ".flow", "format.json")))
                    {
                        Thread.Sleep(50);
                        continue;
                    }
                    FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
                    opened = true;
                }
                foreach (var flow in FlowClient.Flows().Where(f => f.Name.Contains("Stress", StringComparison.Ordinal)))
                {
                    foreach (var run in flow.Runs.Take(4))
                    {
                        _ = run.Status;
                        foreach (var step in run.Steps)
                        {
                            foreach (var task in step.Tasks.Where(t => t.Successful))
                            {
                                foreach (var artifact in task.Artifacts)
                                {
                                    artifact.ToJson();
                                    reads++;
                                }
                            }
                        }
                    }
                }
            }
            catch (Exception e)
            {
                errors.Add(e.ToString());
            }
            Thread.Sleep(100);
        }

        errors.ShouldBeEmpty();
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var results = runs.Select(r => r.Result).ToList();
        results.ShouldAllBe(r => r.ExitCode == 0, string.Join("\n", results.Where(r => r.ExitCode != 0)));
        var ids = results.Select(RunId).ToList();
        ids.Distinct().Count().ShouldBe(4);
        reads.ShouldBeGreaterThan(0, "the client read while the runs wrote");
        for (var i = 0; i < launches.Length; i++)
        {
            var (flow, salt) = launches[i];
            var run = FlowClient.GetRun($"{flow}/{ids[i]}");
            run.Successful.ShouldBeTrue();
            run["Join"].Task.Data<long>("Total").ShouldBe(Enumerable.Range(0, 200).Sum(x => ((long)x * x) + salt));
            var each = run["Each"].Tasks.ToList();
            each.Count.ShouldBe(200);
            each.ShouldAllBe(t => t.Data<long>("Square") == ((long)t.Index!.Value * t.Index!.Value) + salt);
        }
        var verify = product.Flow(dir, "verify");
        verify.ExitCode.ShouldBe(0, verify.ToString());
        verify.Stdout.ShouldContain("all intact");
    }

    [Fact]
    public void Gc_KeepLast_DryRunChangesNothing_ThenRemovesOldRunsAndTheirBlobs_AndTheRestVerifies()
    {
        var dir = StoreProject.Get(product);
        using var temp = new TempDirectory("flow-gc-");
        var store = temp.Combine(".flow");
        var ids = Enumerable.Range(0, 3).Select(_ =>
        {
            var run = product.Flow(dir, "run", "--flow", "StoreFlow", "--datastore", store);
            run.ExitCode.ShouldBe(0, run.ToString());
            return RunId(run);
        }).ToList();
        string StampBlob(string id)
        {
            using var done = JsonDocument.Parse(File.ReadAllText(Path.Combine(store, "runs", "StoreFlow", id, "steps", "Start", "1", "0", "done.json")));
            var sha = done.RootElement.GetProperty("artifacts").GetProperty("Stamp").GetProperty("sha").GetString()!;
            return Path.Combine(store, "blobs", sha[..2], sha);
        }
        var stamps = ids.Select(StampBlob).ToList();
        var files = Directory.GetFiles(store, "*", SearchOption.AllDirectories).Length;

        var dryRun = product.Flow(dir, "gc", "--datastore", store, "--keep-last", "1", "--grace", "0", "--dry-run");

        dryRun.ExitCode.ShouldBe(0, dryRun.ToString());
        dryRun.Stdout.ShouldContain($"Would remove run StoreFlow/{ids[0]}");
        dryRun.Stdout.ShouldContain($"Would remove run StoreFlow/{ids[1]}");
        dryRun.Stdout.ShouldNotContain(ids[2]);
        dryRun.Stdout.ShouldContain("would be freed");
        Directory.GetFiles(store, "*", SearchOption.AllDirectories).Length.ShouldBe(files);

        var gc = product.Flow(dir, "gc", "--datastore", store, "--keep-last", "1", "--grace", "0");

        gc.ExitCode.ShouldBe(0, gc.ToString());
        gc.Stdout.ShouldContain("Removed 2 run(s)");
        Directory.GetDirectories(Path.Combine(store, "runs", "StoreFlow")).Select(Path.GetFileName).ShouldBe([ids[2]]);
        File.Exists(stamps[0]).ShouldBeFalse("the removed run's own value is collected");
        File.Exists(stamps[1]).ShouldBeFalse();
        File.Exists(stamps[2]).ShouldBeTrue();
        var verify = product.Flow(dir, "verify", "--datastore", store);
        verify.ExitCode.ShouldBe(0, verify.ToString());
        var dump = product.Flow(dir, "dump", $"StoreFlow/{ids[2]}/Use", "--datastore", store, "--include", "Checked");
        dump.ExitCode.ShouldBe(0, dump.ToString());
        dump.Stdout.ShouldContain("quadratic 17");
    }
}

internal static class StoreProject
{
    public static string Get(PackedProduct product) => product.SharedProject("StoreLab", "Store/StoreFlows.cs", "StoreFlow", replaceTemplateFlow: true);
}
