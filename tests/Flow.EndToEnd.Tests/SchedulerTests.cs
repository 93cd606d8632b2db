using System.Text.Json;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>The orchestrator's limits, observed through the attempt records of real runs.</summary>
[Collection(PackedProductCollection.Name)]
public sealed class SchedulerTests(PackedProduct product)
{
    [Fact]
    public void MaxWorkers1_RunsForeachChildrenOneAtATime()
    {
        var dir = LabProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "SleepyForeachFlow", "--max-workers", "1");

        run.ExitCode.ShouldBe(0, run.ToString());
        MostAtOnce(dir, run).ShouldBe(1);
    }

    [Fact]
    public void DefaultMaxWorkers_RunsSlowForeachChildrenInParallel()
    {
        var dir = LabProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "SleepyForeachFlow");

        run.ExitCode.ShouldBe(0, run.ToString());
        MostAtOnce(dir, run).ShouldBeGreaterThan(1);
    }

    /// <summary>The largest number of Nap attempts whose [started, finished] intervals overlap.</summary>
    private static int MostAtOnce(string dir, ProcessResult run)
    {
        var runId = System.Text.RegularExpressions.Regex.Match(run.Stdout, @"Run (\d+) of").Groups[1].Value;
        var steps = Path.Combine(dir, ".flow", "runs", "SleepyForeachFlow", runId, "steps", "Nap");
        var intervals = Directory.GetDirectories(steps).Select(task =>
        {
            var attempt = Path.Combine(task, "0");
            using var started = JsonDocument.Parse(File.ReadAllText(Path.Combine(attempt, "started.json")));
            using var done = JsonDocument.Parse(File.ReadAllText(Path.Combine(attempt, "done.json")));
            return (Start: started.RootElement.GetProperty("startedAt").GetDateTimeOffset(), End: done.RootElement.GetProperty("finishedAt").GetDateTimeOffset());
        }).ToList();
        intervals.Count.ShouldBe(4);
        return intervals.Max(i => intervals.Count(o => o.Start < i.End && i.Start < o.End));
    }
}
