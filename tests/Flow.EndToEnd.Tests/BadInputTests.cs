namespace Flow.EndToEnd.Tests;

/// <summary>Bad input gets one clear line, exit code 2, and nothing written.</summary>
[Collection(PackedProductCollection.Name)]
public sealed class BadInputTests(PackedProduct product)
{
    private static void ShouldBeOneLineUsageError(Flow.Tests.ProcessResult result, string expected)
    {
        result.ExitCode.ShouldBe(2, result.ToString());
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(1, result.ToString());
        lines[0].ShouldStartWith("error: ");
        lines[0].ShouldContain(expected, Case.Insensitive, result.ToString());
    }

    [Fact]
    public void Run_OutsideAFlowProject_SaysWhereAndHowToFix()
    {
        var empty = Directory.CreateDirectory(Path.Combine(product.Root, "empty-" + Guid.NewGuid().ToString("N")[..6])).FullName;

        var run = product.Flow(empty, "run");

        ShouldBeOneLineUsageError(run, "No flow project in");
        run.Stderr.ShouldContain("dotnet new flow");
        Directory.Exists(Path.Combine(empty, ".flow")).ShouldBeFalse();
    }

    [Fact]
    public void Run_UnknownFlow_UnknownOption_WrongType_AndMissingValue_CreateNoRun()
    {
        var dir = LabProject.Get(product);
        var before = LabProject.RunCount(dir, "TypedFlow");

        ShouldBeOneLineUsageError(product.Flow(dir, "run", "--flow", "NoSuchFlow"), "No flow named NoSuchFlow");
        ShouldBeOneLineUsageError(product.Flow(dir, "run", "--flow", "TypedFlow", "--bogus", "1"), "Unknown option --bogus");
        ShouldBeOneLineUsageError(product.Flow(dir, "run", "--flow", "TypedFlow", "--count", "many"), "--count: 'many' is not a valid int");
        ShouldBeOneLineUsageError(product.Flow(dir, "run", "--flow", "TypedFlow", "--max-workers", "0"), "--max-workers");
        ShouldBeOneLineUsageError(product.Flow(dir, "run"), "several flows");

        LabProject.RunCount(dir, "TypedFlow").ShouldBe(before);
    }

    [Fact]
    public void Run_ParameterFromEnvironment_IsValidatedLikeTheCommandLine()
    {
        var dir = LabProject.Get(product);
        var env = new Dictionary<string, string?>(product.Environment) { ["FLOW_RUN_COUNT"] = "lots" };

        var run = Flow.Tests.ProcessRunner.Run(product.ToolExecutable, ["run", "--flow", "TypedFlow"], dir, env);

        ShouldBeOneLineUsageError(run, "FLOW_RUN_COUNT");
    }

    [Theory]
    [InlineData("justonepart", "Malformed pathspec")]
    [InlineData("../../etc/passwd", "Malformed pathspec")]
    [InlineData("latest/../../x", "Malformed pathspec")]
    [InlineData("a/b/c/d/e", "Malformed pathspec")]
    [InlineData("TypedFlow/123/Start", "has no run '123'")]
    [InlineData("TypedFlow/latest/NoSuchStep", "has no step 'NoSuchStep'")]
    [InlineData("NoSuchFlow/latest/Start/1", "No flow named 'NoSuchFlow'")]
    public void Dump_BadPathspec_IsAUsageError(string pathspec, string expected)
    {
        var dir = LabProject.Get(product);
        PackedProduct.Must(product.Flow(dir, "run", "--flow", "TypedFlow"));

        ShouldBeOneLineUsageError(product.Flow(dir, "dump", pathspec), expected);
    }

    [Fact]
    public void Dump_DatastoreOfANewerFormat_IsRefused()
    {
        var store = Directory.CreateDirectory(Path.Combine(product.Root, "future-" + Guid.NewGuid().ToString("N")[..6], ".flow")).FullName;
        File.WriteAllText(Path.Combine(store, "format.json"), """{"format":99,"createdBy":"a future version"}""");

        var dump = product.Flow(product.Root, "dump", "SomeFlow/latest/Start", "--datastore", store);

        ShouldBeOneLineUsageError(dump, "format version 99");
    }
}
