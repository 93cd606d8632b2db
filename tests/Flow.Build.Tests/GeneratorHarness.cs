using System.Collections.Immutable;
using System.Text.Json;
using Flow.Build.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Flow.Build.Tests;

/// <summary>One source file of a test compilation: its path and its text.</summary>
internal sealed record SourceFile(string Path, string Text)
{
    /// <summary>The 1-based line of the first line that contains <paramref name="marker"/>.</summary>
    public int LineOf(string marker)
    {
        var lines = Text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains(marker, StringComparison.Ordinal))
            {
                return i + 1;
            }
        }
        throw new InvalidOperationException($"'{marker}' is not in {Path}.");
    }
}

/// <summary>What one run of <see cref="FlowGenerator"/> produced.</summary>
internal sealed record GeneratorOutput(
    GeneratorDriver Driver,
    CSharpCompilation Input,
    Compilation Output,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<GeneratedSourceResult> Sources)
{
    public string Source(string hintName) => Sources.Single(s => s.HintName == hintName).SourceText.ToString();

    public bool HasSource(string hintName) => Sources.Any(s => s.HintName == hintName);

    public IReadOnlyList<Diagnostic> OutputErrors => Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>The JSON values of every <c>[assembly: AssemblyMetadata("Flow.Graph", json)]</c> of the output.</summary>
    public IReadOnlyList<string> GraphMetadata => Output.Assembly.GetAttributes()
        .Where(a => a.AttributeClass?.ToDisplayString() == "System.Reflection.AssemblyMetadataAttribute"
            && a.ConstructorArguments.Length == 2
            && (string?)a.ConstructorArguments[0].Value == "Flow.Graph")
        .Select(a => (string)a.ConstructorArguments[1].Value!)
        .ToList();

    public JsonElement Graph(string flowName) => GraphMetadata
        .Select(json => JsonDocument.Parse(json).RootElement)
        .Single(g => g.GetProperty("name").GetString() == flowName);

    public string Describe() => string.Join(Environment.NewLine, GeneratorDiagnostics.Select(d => d.ToString()));
}

/// <summary>Builds compilations against the running framework and Flow.Sdk, and drives the generator over them.</summary>
internal static class GeneratorHarness
{
    public static IReadOnlyList<MetadataReference> References { get; } = LoadReferences();

    public static CSharpParseOptions ParseOptions(DocumentationMode mode = DocumentationMode.None) =>
        new(LanguageVersion.Preview, mode);

    public static CSharpCompilation Compile(IEnumerable<SourceFile> files, OutputKind kind = OutputKind.ConsoleApplication, DocumentationMode mode = DocumentationMode.None) =>
        CSharpCompilation.Create(
            "FlowProject",
            files.Select(f => CSharpSyntaxTree.ParseText(f.Text, ParseOptions(mode), f.Path)),
            References,
            new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorOutput Run(params SourceFile[] files) => Run(Compile(files));

    public static GeneratorOutput Run(CSharpCompilation compilation, IReadOnlyDictionary<string, string>? globalOptions = null, GeneratorDriver? driver = null)
    {
        driver ??= CSharpGeneratorDriver.Create(
            [new FlowGenerator().AsSourceGenerator()],
            parseOptions: (CSharpParseOptions)compilation.SyntaxTrees.First().Options,
            optionsProvider: new TestOptionsProvider(globalOptions ?? new Dictionary<string, string>()),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var result = driver.GetRunResult().Results.Single();
        result.Exception.ShouldBeNull();
        return new GeneratorOutput(driver, compilation, output, diagnostics, result.GeneratedSources);
    }

    private static List<MetadataReference> LoadReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(typeof(Flow.Sdk.FlowSpec).Assembly.Location)
            .Select(Path.GetFullPath)
            .Distinct(StringComparer.Ordinal);
        return [.. paths.Select(p => MetadataReference.CreateFromFile(p))];
    }
}

/// <summary>Global analyzer config options, as MSBuild passes <c>build_property.*</c> values to a generator.</summary>
internal sealed class TestOptionsProvider(IReadOnlyDictionary<string, string> globalOptions) : AnalyzerConfigOptionsProvider
{
    private readonly TestOptions _global = new(globalOptions);

    public override AnalyzerConfigOptions GlobalOptions => _global;

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => TestOptions.Empty;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => TestOptions.Empty;

    private sealed class TestOptions(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public static TestOptions Empty { get; } = new(new Dictionary<string, string>());

        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
            values.TryGetValue(key, out value);
    }
}
