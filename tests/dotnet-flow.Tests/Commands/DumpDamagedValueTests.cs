using System.Text;
using Flow.Cli.Tests.Support;
using Flow.Sdk;

namespace Flow.Cli.Tests.Commands;

/// <summary>
/// Values whose blob is intact (its hash matches) but which cannot be shown: a damaged or foreign datastore. dump
/// must fail like for a corrupt blob: exit 1, one line naming the artifact, nothing on standard output.
/// </summary>
public sealed class DumpDamagedValueTests : IDisposable
{
    private readonly DatastoreScenario _scenario = new();
    private readonly string _run;

    public DumpDamagedValueTests() => _run = _scenario.AddRun();

    public void Dispose() => _scenario.Dispose();

    [Fact]
    public void Dump_UnexpectedError_IsOneLineWithFailureExitCode()
    {
        _scenario.AddRawArtifact(_run, "Start", "1", "Model", Encoding.UTF8.GetBytes("{\"weights\":"), "json", "Demo.Model");

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        result.SingleErrorLine.ShouldStartWith("error: ");
        result.Output.ShouldBeEmpty();
    }

    [Fact]
    public void Dump_JsonValueThatIsNotJson_FailsNamingTheArtifact()
    {
        _scenario.AddRawArtifact(_run, "Start", "1", "Model", Encoding.UTF8.GetBytes("{\"weights\":"), "json", "Demo.Model");

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        result.SingleErrorLine.ShouldContain($"HelloFlow/{_run}/Start/1/Model");
        result.SingleErrorLine.ShouldNotContain("unexpectedly");
    }

    [Fact]
    public void Dump_UnknownEncoding_FailsNamingTheArtifactAndEncoding()
    {
        _scenario.AddRawArtifact(_run, "Start", "1", "Table", [1, 2, 3, 4], "arrow", "Demo.Table");

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        result.SingleErrorLine.ShouldContain($"HelloFlow/{_run}/Start/1/Table");
        result.SingleErrorLine.ShouldContain("arrow");
        result.SingleErrorLine.ShouldNotContain("unexpectedly");
    }

    [Fact]
    public void Dump_UnexpectedErrorWithVerbose_PrintsTheStackTraceAndExitsWithFailure()
    {
        _scenario.AddRawArtifact(_run, "Start", "1", "Model", Encoding.UTF8.GetBytes("{\"weights\":"), "json", "Demo.Model");

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--verbose");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        result.Error.ShouldContain("---> System.Text.Json.JsonReaderException");
        result.Error.ShouldContain(" at ");
    }

    [Fact]
    public void Dump_ArrayValue_PrintsItsElements()
    {
        _scenario.AddRawArtifact(_run, "Start", "1", "Scores", BitConverter.GetBytes(1.5).Concat(BitConverter.GetBytes(-2.0)).ToArray(), "array:float64", "System.Double[]");

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("  Scores [System.Double[], 16 bytes] = [1.5,-2]\n");
    }

    [Fact]
    public void Dump_TextWithSpecialCharacters_PrintsValidJsonThatRoundTrips()
    {
        const string text = "café <b>\"quoted\"</b>\nline 2 & more";
        _scenario.AddRawArtifact(_run, "Start", "1", "Note", Encoding.UTF8.GetBytes(text), "string", "System.String");

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--json");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(result.Output);
        doc.RootElement.GetProperty($"HelloFlow/{_run}/Start/1").GetProperty("Note").GetString().ShouldBe(text);
    }
}
