using System.Text.Json;
using System.Text.RegularExpressions;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// Parameters, JSON configuration and included files through the packed tool (Inputs/InputFlows.cs): every type,
/// every precedence rule, every input error (one line, exit 2, no run), and included files that the run keeps
/// after the file on disk changed or is gone.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class ParameterMatrixTests(PackedProduct product)
{
    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    [Fact]
    public void EveryType_TakesItsDefault_WhenNotGiven()
    {
        var dir = InputsProject.Get(product);

        var end = RunAndDumpEnd(dir, "TypesFlow", "--creature", "cat");

        end.GetProperty("Seen").GetString().ShouldBe("hi|False|3|5000000000|0.5|9.99|Light|2026-01-02T03:04:05.0000000Z|2026-01-02|1,2|-|0|cat");
        end.GetProperty("Shade").GetString().ShouldBe("Light");
        end.GetProperty("Day").GetString().ShouldBe("2026-01-02");
        end.GetProperty("Seeds").EnumerateArray().Select(e => e.GetInt32()).ShouldBe([1, 2]);
        end.GetProperty("Config").ValueKind.ShouldBe(JsonValueKind.Null);
        end.GetProperty("Big").GetInt64().ShouldBe(5_000_000_000);
    }

    [Fact]
    public void EveryType_IsSetFromTheCommandLine()
    {
        var dir = InputsProject.Get(product);
        File.WriteAllText(Path.Combine(dir, "cfg.json"), """{"Model":"forest","Trees":40,"Rates":[0.1,0.2],"Limits":{"b":2,"a":1}}""");

        var end = RunAndDumpEnd(dir, "TypesFlow", "--word", "yo", "--flag", "--count", "7", "--big", "6000000000", "--ratio", "0.25", "--price", "1.5",
            "--shade", "dark", "--when", "2025-05-06T07:08:09Z", "--day", "2025-05-06", "--seeds", "4,5,6", "--config", "@cfg.json", "--creature", "dog");

        end.GetProperty("Seen").GetString().ShouldBe("yo|True|7|6000000000|0.25|1.5|Dark|2025-05-06T07:08:09.0000000Z|2025-05-06|4,5,6|forest|40|dog");
        var config = end.GetProperty("Config");
        config.GetProperty("Rates").EnumerateArray().Select(e => e.GetDouble()).ShouldBe([0.1, 0.2]);
        // Dictionaries are stored canonically: entries sorted by key.
        config.GetProperty("Limits").EnumerateObject().Select(p => p.Name).ShouldBe(["a", "b"]);
    }

    [Fact]
    public void JsonParameter_AcceptsInlineJson_AndAListAJsonArray()
    {
        var dir = InputsProject.Get(product);

        var end = RunAndDumpEnd(dir, "TypesFlow", "--config", """{"Model":"inline","Trees":3,"Rates":[],"Limits":{}}""", "--seeds", "[9, 8]", "--creature", "cat");

        end.GetProperty("Seen").GetString()!.ShouldEndWith("|9,8|inline|3|cat");
    }

    [Fact]
    public void Precedence_CommandLineThenEnvironmentThenDefault()
    {
        var dir = InputsProject.Get(product);
        var env = new Dictionary<string, string?> { ["FLOW_RUN_COUNT"] = "11", ["FLOW_RUN_CREATURE"] = "owl", ["FLOW_RUN_SEEDS"] = "7,8" };

        var fromEnv = RunAndDumpEnd(dir, "TypesFlow", env);
        var fromLine = RunAndDumpEnd(dir, "TypesFlow", env, "--count", "12");

        fromEnv.GetProperty("Seen").GetString().ShouldBe("hi|False|11|5000000000|0.5|9.99|Light|2026-01-02T03:04:05.0000000Z|2026-01-02|7,8|-|0|owl");
        fromLine.GetProperty("Count").GetInt32().ShouldBe(12);
        fromLine.GetProperty("Animal").GetString().ShouldBe("owl");
    }

    public static TheoryData<string[], string[]> BadInputs => new()
    {
        { [], ["--creature", "required", "FLOW_RUN_CREATURE"] },
        { ["--creature", "cat", "--count", "abc"], ["--count", "'abc'", "whole number"] },
        { ["--creature", "cat", "--shade", "purple"], ["--shade", "purple", "Light, Dark"] },
        { ["--creature", "cat", "--config", """{"Model": }"""], ["--config", "JSON does not fit", "line 1, position"] },
        { ["--creature", "cat", "--config", "@nowhere.json"], ["--config", "nowhere.json"] },
        { ["--creature", "cat", "--seeds", "1,x"], ["--seeds", "'x'"] },
        { ["--creature", "cat", "--when", "yesterday"], ["--when", "'yesterday'"] },
        { ["--creature", "cat", "--nope", "1"], ["--nope", "--creature"] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_IsOneLine_Exit2_AndCreatesNoRun(string[] args, string[] mentions)
    {
        var dir = InputsProject.Get(product);
        var before = LabProject.RunCount(dir, "TypesFlow");

        var run = product.Flow(dir, ["run", "--flow", "TypesFlow", .. args]);

        run.ExitCode.ShouldBe(2, run.ToString());
        var error = run.Stderr.Trim();
        error.Split('\n').Length.ShouldBe(1, run.ToString());
        error.ShouldStartWith("error: ", customMessage: run.ToString());
        foreach (var mention in mentions)
        {
            error.ShouldContain(mention, customMessage: run.ToString());
        }
        LabProject.RunCount(dir, "TypesFlow").ShouldBe(before);
    }

    [Fact]
    public void BadEnvironmentValue_IsValidatedLikeTheCommandLine_AndNamesTheVariable()
    {
        var dir = InputsProject.Get(product);

        var run = Flow(dir, new Dictionary<string, string?> { ["FLOW_RUN_COUNT"] = "many" }, "run", "--flow", "TypesFlow", "--creature", "cat");

        run.ExitCode.ShouldBe(2, run.ToString());
        run.Stderr.ShouldContain("FLOW_RUN_COUNT", customMessage: run.ToString());
        run.Stderr.ShouldContain("'many'", customMessage: run.ToString());
    }

    [Fact]
    public void IncludedCsv_IsParsedWithTheDelimiterParameter_AndTheRunKeepsItAfterTheFileChangesAndIsDeleted()
    {
        var dir = InputsProject.Get(product);
        var csv = Path.Combine(dir, "semi.csv");
        const string content = "name;value\na;1.5\nb;2.5\nc;4\n";
        File.WriteAllText(csv, content);

        var (runId, _) = Run(dir, "CsvFlow", "--data", "semi.csv", "--delimiter", ";");
        File.WriteAllText(csv, "name;value\nz;100\n");
        var changed = Dump(dir, "CsvFlow", $"{runId}/Check");
        File.Delete(csv);
        var deleted = Dump(dir, "CsvFlow", $"{runId}/Check");

        foreach (var check in new[] { changed, deleted })
        {
            check.GetProperty("Data").GetString().ShouldBe(content);
            check.GetProperty("Rows").GetInt32().ShouldBe(3);
            check.GetProperty("Total").GetDouble().ShouldBe(8.0);
            check.GetProperty("Delimiter").GetString().ShouldBe(";");
        }
    }

    [Fact]
    public void IncludedFile_DefaultPath_IsUsed_AndAMissingOneIsAnInputError()
    {
        var dir = InputsProject.Get(product);
        File.WriteAllText(Path.Combine(dir, "data.csv"), "name,value\nx,2\n");
        var withDefault = RunAndDumpEnd(dir, "CsvFlow");
        File.Delete(Path.Combine(dir, "data.csv"));
        var before = LabProject.RunCount(dir, "CsvFlow");

        var missing = product.Flow(dir, "run", "--flow", "CsvFlow");

        withDefault.GetProperty("Total").GetDouble().ShouldBe(2.0);
        missing.ExitCode.ShouldBe(2, missing.ToString());
        missing.Stderr.Trim().ShouldStartWith("error: Included file --data (the default): cannot read data.csv", customMessage: missing.ToString());
        LabProject.RunCount(dir, "CsvFlow").ShouldBe(before);
    }

    [Fact]
    public void IncludedFiles_AsBytesAndAsAStream_AndWithoutAPath_AreEmpty()
    {
        var dir = InputsProject.Get(product);
        var big = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(big);
        File.WriteAllBytes(Path.Combine(dir, "big.bin"), big);
        File.WriteAllBytes(Path.Combine(dir, "small.bin"), "abc"u8.ToArray());

        var (runId, _) = Run(dir, "FilesFlow", "--blob", "small.bin", "--stream", "big.bin");
        var end = Dump(dir, "FilesFlow", $"{runId}/End", "--max-value-size", "100");

        end.GetProperty("BlobLength").GetInt64().ShouldBe(3);
        end.GetProperty("Blob").GetString().ShouldBe(Convert.ToBase64String("abc"u8.ToArray()));
        end.GetProperty("StreamLength").GetInt64().ShouldBe(big.Length);
        end.GetProperty("StreamName").GetString().ShouldBe("big.bin");
        end.GetProperty("Big").GetProperty("size").GetInt64().ShouldBe(big.Length);
        end.GetProperty("NothingLength").GetInt32().ShouldBe(0);
        end.GetProperty("Nothing").GetString().ShouldBe("");
        var runJson = File.ReadAllText(Path.Combine(dir, ".flow", "runs", "FilesFlow", runId, "run.json"));
        runJson.ShouldContain("\"Big\":\"big.bin\"");
    }

    [Fact]
    public void RunHelp_And_Show_ListEveryParameter_WithTypeDefaultRequiredAndHelp()
    {
        var dir = InputsProject.Get(product);

        var help = product.Flow(dir, "run", "--help", "--flow", "TypesFlow");
        var csvHelp = product.Flow(dir, "run", "--help", "--flow", "CsvFlow");
        var show = product.Flow(dir, "show", "--flow", "CsvFlow");

        help.ExitCode.ShouldBe(0, help.ToString());
        help.Stdout.ShouldContain("--creature string  (required; env FLOW_RUN_CREATURE)  Which animal");
        help.Stdout.ShouldContain("--word string  (default \"hi\"; env FLOW_RUN_WORD)  A word");
        help.Stdout.ShouldContain("--seeds int list (items separated by ',', or a JSON array)  (default [1, 2]");
        help.Stdout.ShouldContain("--flag switch (--flag alone is true; or --flag true|false)  (default false;");
        help.Stdout.ShouldContain("--shade Shade (Light|Dark)");
        help.Stdout.ShouldContain("--config TrainConfig (as JSON)  (optional;");
        help.Stdout.ShouldNotContain("System.");
        csvHelp.Stdout.ShouldContain("--data FILE");
        csvHelp.Stdout.ShouldContain("default data.csv");
        show.Stdout.ShouldContain("--data FILE -> string = data.csv  The rows");
        show.Stdout.ShouldContain("--delimiter string = \",\"");
    }

    private (string RunId, ProcessResult Result) Run(string dir, string flow, params string[] args) => Run(dir, flow, null, args);

    private (string RunId, ProcessResult Result) Run(string dir, string flow, Dictionary<string, string?>? env, params string[] args)
    {
        var run = Flow(dir, env, ["run", "--flow", flow, .. args]);
        run.ExitCode.ShouldBe(0, run.ToString());
        return (RunStarted().Match(run.Stdout).Groups[1].Value, run);
    }

    private JsonElement RunAndDumpEnd(string dir, string flow, params string[] args) => RunAndDumpEnd(dir, flow, null, args);

    private JsonElement RunAndDumpEnd(string dir, string flow, Dictionary<string, string?>? env, params string[] args)
    {
        var (runId, _) = Run(dir, flow, env, args);
        return Dump(dir, flow, $"{runId}/End");
    }

    private JsonElement Dump(string dir, string flow, string pathspec, params string[] extra)
    {
        var dump = product.Flow(dir, ["dump", pathspec, "--flow", flow, "--json", .. extra]);
        dump.ExitCode.ShouldBe(0, dump.ToString());
        using var doc = JsonDocument.Parse(dump.Stdout);
        return doc.RootElement.EnumerateObject().Single().Value.Clone();
    }

    private ProcessResult Flow(string dir, Dictionary<string, string?>? env, params string[] args)
    {
        var environment = new Dictionary<string, string?>(product.Environment);
        foreach (var (name, value) in env ?? [])
        {
            environment[name] = value;
        }
        return ProcessRunner.Run(product.ToolExecutable, args, dir, environment);
    }
}

/// <summary>A project made from the template holding Inputs/InputFlows.cs, built once and shared.</summary>
internal static class InputsProject
{
    public static string Get(PackedProduct product) => product.SharedProject("Inputs", "Inputs/InputFlows.cs", "TypesFlow", replaceTemplateFlow: true);
}
