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

    [Fact]
    public void TasksThatWait_GetMoreWorkersThanCores_BeforeTheFirstOfThemEnds()
    {
        // A step's duration is unknown until a task ends; its first task's CPU use shows sooner that the tasks wait.
        var dir = LabProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "WaitingForeachFlow", "--max-workers", "8");

        run.ExitCode.ShouldBe(0, run.ToString());
        var intervals = Intervals(dir, run, "WaitingForeachFlow", "Wait");
        intervals.Count.ShouldBe(6);
        var firstEnd = intervals.Min(i => i.End);
        intervals.Count(i => i.Start < firstEnd).ShouldBeGreaterThan(Math.Min(Environment.ProcessorCount, 5), "tasks started before the first ended");
    }

    [Fact]
    public void RefusedRun_OfCodeThatRanBefore_LeavesNoWorkerBehind()
    {
        // A run of code that ran before starts its first worker before it opens the datastore; a run refused after
        // that (here by a datastore of a newer format) must end that worker too.
        var dir = LabProject.Get(product);
        product.Flow(dir, "run", "--flow", "TypedFlow").ExitCode.ShouldBe(0);
        var format = Path.Combine(dir, ".flow", "format.json");
        var kept = File.ReadAllText(format);
        ProcessResult refused;
        try
        {
            File.WriteAllText(format, "{\"format\":99}");
            refused = product.Flow(dir, "run", "--flow", "TypedFlow");
        }
        finally
        {
            File.WriteAllText(format, kept);
        }

        refused.ExitCode.ShouldBe(2, refused.ToString());
        refused.Stderr.ShouldContain("newer than this dotnet flow reads");
        WorkersOf(dir).ShouldBeEmpty("the worker started early ends with the refused run");

        // Refused before the run looks for a worker at all (dotnet flow run, hosting the run, started one already).
        var badValue = product.Flow(dir, "run", "--flow", "TypedFlow", "--count", "many");

        badValue.ExitCode.ShouldBe(2, badValue.ToString());
        badValue.Stderr.ShouldContain("'many' is not a valid int");
        WorkersOf(dir).ShouldBeEmpty("the worker the tool started ends with the refused run");
    }

    /// <summary>Worker processes running code from this project's datastore.</summary>
    private static List<int> WorkersOf(string dir)
    {
        var datastore = Path.Combine(dir, ".flow");
        var workers = new List<int>();
        foreach (var proc in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid))
            {
                continue;
            }
            try
            {
                var args = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (args.Contains("__worker", StringComparison.Ordinal) && args.Contains(datastore, StringComparison.Ordinal))
                {
                    workers.Add(pid);
                }
            }
            catch (IOException)
            {
                // Ended meanwhile.
            }
        }
        return workers;
    }

    /// <summary>The largest number of Nap attempts whose [started, finished] intervals overlap.</summary>
    private static int MostAtOnce(string dir, ProcessResult run)
    {
        var intervals = Intervals(dir, run, "SleepyForeachFlow", "Nap");
        intervals.Count.ShouldBe(4);
        return intervals.Max(i => intervals.Count(o => o.Start < i.End && i.Start < o.End));
    }

    private static List<(DateTimeOffset Start, DateTimeOffset End)> Intervals(string dir, ProcessResult run, string flow, string step)
    {
        var runId = System.Text.RegularExpressions.Regex.Match(run.Stdout, @"Run (\d+) of").Groups[1].Value;
        var steps = Path.Combine(dir, ".flow", "runs", flow, runId, "steps", step);
        var intervals = Directory.GetDirectories(steps).Select(task =>
        {
            var attempt = Path.Combine(task, "0");
            using var started = JsonDocument.Parse(File.ReadAllText(Path.Combine(attempt, "started.json")));
            using var done = JsonDocument.Parse(File.ReadAllText(Path.Combine(attempt, "done.json")));
            return (Start: started.RootElement.GetProperty("startedAt").GetDateTimeOffset(), End: done.RootElement.GetProperty("finishedAt").GetDateTimeOffset());
        }).ToList();
        return intervals;
    }
}
