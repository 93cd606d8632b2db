using Flow.Sdk;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// gc beside writers, with real processes (docs/datastore.md, "Writers and gc"): gc with no grace and no retention
/// beyond what it must keep runs again and again while old runs are resumed (clones that name the origin's blobs)
/// and new runs start (snapshot imports, parameters, tasks); afterwards verify finds nothing missing and every run
/// that is left reads back whole.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed class GcProtocolTests(PackedProduct product)
{
    [Fact]
    public async Task GcInALoop_BesideResumesAndNewRuns_NeverRemovesWhatARunNames()
    {
        var dir = ResumeProject.Get(product);
        var store = Path.Combine(product.Root, "gc-loop-" + Guid.NewGuid().ToString("N")[..6], ".flow");
        var failing = new Dictionary<string, string?>(product.Environment) { ["FAIL_AT"] = "Join" };
        ProcessResult Flow(IDictionary<string, string?> environment, params string[] args) =>
            ProcessRunner.Run(product.ToolExecutable, [.. args, "--datastore", store], dir, environment);

        // A successful run first (each flow's latest successful run always stays), then failed origins to resume.
        PackedProduct.Must(Flow(product.Environment, "run", "--flow", "ResumeLabFlow"));
        var origins = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            // Held by a tag until its resume has begun; then gc may remove it, and its blobs, while the resume clones.
            var failed = Flow(failing, "run", "--flow", "ResumeLabFlow", "--label", "origin" + i, "--tag", "hold");
            failed.ExitCode.ShouldBe(1, failed.ToString());
            origins.Add(System.Text.RegularExpressions.Regex.Match(failed.Stdout, @"Run (\d+) of ResumeLabFlow started").Groups[1].Value);
        }

        using var stop = new CancellationTokenSource();
        var collections = 0;
        var gcFailures = new List<string>();
        var gc = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var collected = Flow(product.Environment, "gc", "--keep-last", "0", "--grace", "0", "--keep-tag", "hold");
                if (collected.ExitCode != 0)
                {
                    lock (gcFailures)
                    {
                        gcFailures.Add(collected.ToString());
                    }
                }
                Interlocked.Increment(ref collections);
            }
        });
        var outcomes = new List<ProcessResult>();
        try
        {
            for (var i = 0; i < origins.Count; i++)
            {
                var origin = origins[i];
                var resume = Task.Run(() => Flow(product.Environment, "resume", "--flow", "ResumeLabFlow", "--origin-run-id", origin));
                var fresh = Task.Run(() => Flow(product.Environment, "run", "--flow", "ResumeLabFlow", "--label", "fresh"));
                await Task.Delay(150 + (i * 150));
                PackedProduct.Must(Flow(product.Environment, "tag", "remove", $"ResumeLabFlow/{origin}", "hold"));
                outcomes.AddRange(await Task.WhenAll(resume, fresh));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await gc;
        }

        collections.ShouldBeGreaterThan(2);
        gcFailures.ShouldBeEmpty();
        foreach (var outcome in outcomes)
        {
            // A resume whose origin (or its parameters) gc removed before it began is refused with one line; nothing
            // else may fail.
            (outcome.ExitCode == 0 || outcome.Stderr.Contains("has no run", StringComparison.Ordinal) || outcome.Stderr.Contains("is no longer in the datastore", StringComparison.Ordinal))
                .ShouldBeTrue(outcome.ToString());
        }
        outcomes.Count(o => o.ExitCode == 0).ShouldBeGreaterThan(4, "the new runs all succeed, and resumes too");
        outcomes.ShouldContain(o => o.Stdout.Contains("Cloned from", StringComparison.Ordinal), "resumes cloned from origins gc was removing");

        var verify = Flow(product.Environment, "verify");
        verify.ExitCode.ShouldBe(0, verify.ToString());
        verify.Stdout.ShouldContain("all intact");
        FlowClient.UseDatastore(store);
        foreach (var run in FlowClient.GetFlow("ResumeLabFlow").RunsIn(Namespace.Global))
        {
            foreach (var task in run.Steps.SelectMany(s => s.Tasks).Where(t => t.Successful))
            {
                foreach (var artifact in task.Artifacts)
                {
                    artifact.ToJson().ShouldNotBeNull();
                }
            }
        }
    }
}
