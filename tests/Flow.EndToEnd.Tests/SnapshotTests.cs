using System.Text.Json;
using System.Text.RegularExpressions;
using Flow.Sdk;

namespace Flow.EndToEnd.Tests;

/// <summary>The code snapshot and the build gate: what runs is what was built, and only changes rebuild.</summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class SnapshotTests(PackedProduct product)
{
    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    [Fact]
    public void Tasks_ExecuteFromTheSnapshotInTheDatastore_NotFromBin()
    {
        var dir = LabProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "TypedFlow");

        run.ExitCode.ShouldBe(0, run.ToString());
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var stored = FlowClient.GetFlow("TypedFlow").LatestRun!;
        var where = stored["Start"].Task.Data<string>("WhereAmI");
        where.ShouldStartWith(Path.Combine(dir, ".flow", "code", stored.Code.Hash));
    }

    [Fact]
    public void EditingOneLine_RebuildsAndRunsTheNewCode_WithANewSnapshot_AndNoOpRebuildKeepsTheHash()
    {
        var dir = product.NewProject("Edit");
        PackedProduct.Must(product.Flow(dir, "run"));
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var first = FlowClient.GetFlow("HelloFlow").LatestRun!.Code.Hash;
        var source = Path.Combine(dir, "HelloFlow.cs");
        File.WriteAllText(source, File.ReadAllText(source).Replace("$\"Hello, {Name}!\"", "$\"Howdy, {Name}!\""));

        var edited = product.Flow(dir, "run");

        edited.ExitCode.ShouldBe(0, edited.ToString());
        edited.Stdout.ShouldContain("Howdy, world!");
        var second = FlowClient.GetFlow("HelloFlow").LatestRun!.Code.Hash;
        second.ShouldNotBe(first);

        PackedProduct.Must(product.Dotnet(dir, "build", "-nr:false"));
        var manifest = File.ReadAllBytes(Directory.GetFiles(Path.Combine(dir, "bin"), "snapshot.json", SearchOption.AllDirectories).Single());
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(manifest)).ShouldBe(second);
    }

    [Fact]
    public void BrokenGraph_FailsTheBuild_WithTheCodeFileAndLine()
    {
        var dir = product.NewProject("Broken");
        var source = Path.Combine(dir, "HelloFlow.cs");
        var lines = File.ReadAllLines(source).ToList();
        var hello = lines.FindIndex(l => l.Contains("public void Hello()", StringComparison.Ordinal));
        File.WriteAllLines(source, lines.Select(l => l.Contains("Next(End);", StringComparison.Ordinal) ? "" : l));

        var run = product.Flow(dir, "run");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Output.ShouldContain($"HelloFlow.cs({hello + 1},");
        run.Output.ShouldContain("error FLOW0004");
        run.Stderr.ShouldContain("did not build");
        var show = product.Flow(dir, "show");
        show.ExitCode.ShouldBe(1, show.ToString());
    }

    [Fact]
    public void Snapshot_RecordsSourcesAndBuildOutput_SoTheRunsCodeCanBeRestored()
    {
        var dir = product.NewProject("Code");
        PackedProduct.Must(product.Flow(dir, "run"));
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var code = FlowClient.GetFlow("HelloFlow").LatestRun!.Code.Hash;
        var blob = Path.Combine(dir, ".flow", "blobs", code[..2], code);

        File.Exists(blob).ShouldBeTrue();
        var manifestFile = Directory.GetFiles(Path.Combine(dir, "bin"), "snapshot.json", SearchOption.AllDirectories).Single();
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(manifestFile));
        var paths = manifest.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()).ToList();
        paths.ShouldContain(p => p!.EndsWith("HelloFlow.cs", StringComparison.Ordinal));
        paths.ShouldContain(p => p!.EndsWith("Code.csproj", StringComparison.Ordinal));
        paths.ShouldContain("bin/Code.dll");
        foreach (var file in manifest.RootElement.GetProperty("files").EnumerateArray())
        {
            var sha = file.GetProperty("sha").GetString()!;
            File.Exists(Path.Combine(dir, ".flow", "blobs", sha[..2], sha)).ShouldBeTrue(sha);
        }
    }

    [Fact]
    public async Task TwoRunsStartedAtOnce_GetDistinctRunIds()
    {
        var dir = product.NewProject("Twice");
        PackedProduct.Must(product.Flow(dir, "show"));

        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => product.Flow(dir, "run"))));

        var ids = runs.Select(r => RunStarted().Match(r.Stdout).Groups[1].Value).ToList();
        runs.ShouldAllBe(r => r.ExitCode == 0);
        ids.Distinct().Count().ShouldBe(2);
    }

    [Fact]
    public void CodeMaterialize_WritesTheRunsBuildOutputBackFromItsBlobs_AndTheStepRunsFromIt()
    {
        var dir = product.NewProject("Materialize");
        PackedProduct.Must(product.Flow(dir, "run"));
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var run = FlowClient.GetFlow("HelloFlow").LatestRun!;
        var store = Path.Combine(dir, ".flow");
        Directory.Delete(Path.Combine(store, "code"), recursive: true); // a node that has only the datastore's blobs

        var materialized = product.Flow(dir, "code", "latest", "--materialize");

        materialized.ExitCode.ShouldBe(0, materialized.ToString());
        var assembly = materialized.Stdout.Trim();
        assembly.ShouldBe(Path.Combine(store, "code", run.Code.Hash, "Materialize.dll"));
        var replay = product.Dotnet(dir, "exec", assembly, "step", "--datastore", store, "--flow", "HelloFlow",
            "--run-id", run.Id, "--step", "Hello", "--task-id", "80", "--input-paths", $"{run.Id}/Start/1", "--logs");
        replay.ExitCode.ShouldBe(0, replay.ToString());
        FlowClient.GetRun(run.Pathspec)["Hello"]["80"].Stdout.ShouldContain("Hello, world!");
        var both = product.Flow(dir, "code", "latest", "--materialize", "--extract", "x");
        both.ExitCode.ShouldBe(2, both.ToString());
        both.Stderr.ShouldContain("give one of them");
    }

    [Fact]
    public void Step_IsAReplayableUnit_RunnableOnItsOwnFromTheSnapshot()
    {
        var dir = product.NewProject("Replay");
        PackedProduct.Must(product.Flow(dir, "run"));
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var run = FlowClient.GetFlow("HelloFlow").LatestRun!;
        var store = Path.Combine(dir, ".flow");
        var assembly = Path.Combine(store, "code", run.Code.Hash, "Replay.dll");

        var replay = product.Dotnet(dir, "exec", assembly, "step", "--datastore", store, "--flow", "HelloFlow",
            "--run-id", run.Id, "--step", "Hello", "--task-id", "90", "--input-paths", $"{run.Id}/Start/1");

        replay.ExitCode.ShouldBe(0, replay.ToString());
        replay.Stdout.ShouldContain("Hello, world!");
        var task = FlowClient.GetRun(run.Pathspec)["Hello"]["90"];
        task.Successful.ShouldBeTrue();
        task.Data<string>("Message").ShouldBe("Hello, world!");
        task.Stdout.ShouldBeEmpty("without --logs the launcher keeps the output");

        // --logs: the task stores its own output, as a cluster job must (nothing else captures it there).
        var logged = product.Dotnet(dir, "exec", assembly, "step", "--datastore", store, "--flow", "HelloFlow",
            "--run-id", run.Id, "--step", "Hello", "--task-id", "91", "--input-paths", $"{run.Id}/Start/1", "--logs");
        logged.ExitCode.ShouldBe(0, logged.ToString());
        logged.Stdout.ShouldContain("Hello, world!");
        var logs = product.Flow(dir, "logs", $"{run.Id}/Hello/91");
        logs.ExitCode.ShouldBe(0, logs.ToString());
        logs.Stdout.ShouldContain("Hello, world!");

        // [Catch] is expressed by --catch-failure (last attempt) and --caught (record a dead attempt's failure); a
        // step without [Catch] refuses both.
        var refused = product.Dotnet(dir, "exec", assembly, "step", "--datastore", store, "--flow", "HelloFlow",
            "--run-id", run.Id, "--step", "Hello", "--task-id", "92", "--input-paths", $"{run.Id}/Start/1", "--catch-failure");
        refused.ExitCode.ShouldBe(2, refused.ToString());
        refused.Stderr.ShouldContain("step Hello of HelloFlow has none");
    }
}
