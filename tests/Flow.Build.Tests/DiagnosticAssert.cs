using Microsoft.CodeAnalysis;

namespace Flow.Build.Tests;

/// <summary>Runs the generator over one flow file and asserts its diagnostics by id and line, or that it builds.</summary>
internal static class DiagnosticAssert
{
    public const string FilePath = "/src/app/Flows/TestFlow.cs";

    /// <summary>Runs the generator over one file and returns its diagnostics.</summary>
    public static (SourceFile File, IReadOnlyList<Diagnostic> Diagnostics) Diagnose(string source)
    {
        var file = new SourceFile(FilePath, source);
        var run = GeneratorHarness.Run(file);
        return (file, run.GeneratorDiagnostics);
    }

    /// <summary>A diagnostic as "ID@path:line".</summary>
    public static string At(Diagnostic d) => $"{d.Id}@{d.Location.GetLineSpan().Path}:{d.Location.GetLineSpan().StartLinePosition.Line + 1}";

    /// <summary>Asserts that the flow fails with exactly these diagnostics, each on the line that holds its marker.</summary>
    public static IReadOnlyList<Diagnostic> ShouldFailWith(string source, params (string Id, string Marker)[] expected)
    {
        var (file, diagnostics) = Diagnose(source);
        diagnostics.ShouldAllBe(d => d.Severity == DiagnosticSeverity.Error);
        diagnostics.Select(At).OrderBy(x => x, StringComparer.Ordinal).ShouldBe(
            expected.Select(e => $"{e.Id}@{FilePath}:{file.LineOf(e.Marker)}").OrderBy(x => x, StringComparer.Ordinal),
            string.Join(Environment.NewLine, diagnostics));
        return diagnostics;
    }

    /// <summary>Asserts that the flow has no diagnostic and that the generated code compiles; returns the run.</summary>
    public static GeneratorOutput ShouldCompileClean(string source)
    {
        var run = GeneratorHarness.Run(new SourceFile(FilePath, source));
        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty(string.Join(Environment.NewLine, run.OutputErrors));
        return run;
    }
}
