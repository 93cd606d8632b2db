using System.Text.Json;
using Flow.Sdk;

namespace Flow.EndToEnd.Tests;

/// <summary>Failures inside a run: one clear line, exit code 1, nothing half-written.</summary>
[Collection(PackedProductCollection.Name)]
public sealed class FailureTests(PackedProduct product)
{
    [Fact]
    public void StepException_FailsTheRun_WithTheUsersTrace_AndExitCode1()
    {
        var dir = LabProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "FailFlow");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Output.ShouldContain("about to fail");
        run.Output.ShouldContain("System.InvalidOperationException: boom from user code");
        run.Output.ShouldContain("Lab.Thrower.Throw()");
        run.Output.ShouldNotContain("at Flow.Sdk.");
        run.Stderr.ShouldContain("failed: step Explode (task 2) failed: System.InvalidOperationException: boom from user code");
        // The console ends with the user's stack trace.
        run.Stderr[run.Stderr.LastIndexOf("failed: step Explode", StringComparison.Ordinal)..].ShouldContain("at Lab.Thrower.Throw()");

        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var stored = FlowClient.GetFlow("FailFlow").LatestRun!;
        stored.Finished.ShouldBeTrue();
        stored.Successful.ShouldBeFalse();
        stored["Start"].Task.Successful.ShouldBeTrue();
        stored["Explode"].Task.Successful.ShouldBeFalse();
        stored["Explode"].Successful.ShouldBeFalse();
        stored["Explode"].Task.Status.ShouldBe("failed");
        stored["Explode"].Task.Error.ShouldBe("System.InvalidOperationException: boom from user code");
        stored["Explode"].Task.Stdout.ShouldContain("about to fail");
        stored["Explode"].Task.Data<int>("Before").ShouldBe(1);
    }

    [Fact]
    public void UnserializableArtifact_FailsItsTask_NamingArtifactTypeAndStep()
    {
        var dir = LabProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "BadArtifactFlow");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Output.ShouldContain("Artifact 'Kind' of type System.Type in step Start cannot be serialized");
    }

    [Fact]
    public void StepThatEndsTheProcess_IsReportedAsSuch()
    {
        var dir = LabProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "ExitFlow");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stderr.ShouldContain("process exited with code 3 before the task finished");
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        FlowClient.GetFlow("ExitFlow").LatestRun!["Start"].Task.Finished.ShouldBeTrue();
    }

    [Fact]
    public void CorruptBlob_IsDetectedOnRead_NamingTheArtifact_NeverShownAsData()
    {
        var dir = LabProject.Get(product);
        PackedProduct.Must(product.Flow(dir, "run", "--flow", "TypedFlow", "--count", "7"));
        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var squares = FlowClient.GetFlow("TypedFlow").LatestRun!["Start"].Task["Squares"];
        var blob = Path.Combine(dir, ".flow", "blobs", squares.Sha[..2], squares.Sha);
        var bytes = File.ReadAllBytes(blob);
        bytes[^1] ^= 0x5A;
        File.WriteAllBytes(blob, bytes);
        try
        {
            var dump = product.Flow(dir, "dump", "TypedFlow/latest/Start");

            dump.ExitCode.ShouldBe(1, dump.ToString());
            dump.Stderr.ShouldContain("Squares");
            dump.Stderr.ShouldContain("damaged");
            dump.Stdout.ShouldNotContain("36");
        }
        finally
        {
            bytes[^1] ^= 0x5A;
            File.WriteAllBytes(blob, bytes);
        }
    }

    [Fact]
    public void Artifacts_OfEveryStep_AreDumpedAsJson_WithTypedValues()
    {
        var dir = LabProject.Get(product);
        PackedProduct.Must(product.Flow(dir, "run", "--flow", "TypedFlow", "--count", "4"));

        var dump = product.Flow(dir, "dump", "TypedFlow/latest/End", "--json");

        dump.ExitCode.ShouldBe(0, dump.ToString());
        using var doc = JsonDocument.Parse(dump.Stdout);
        var task = doc.RootElement.EnumerateObject().Single().Value;
        task.GetProperty("Count").GetInt32().ShouldBe(4);
        task.GetProperty("Squares").EnumerateArray().Select(e => e.GetInt32()).ShouldBe([0, 1, 4, 9]);
    }
}
