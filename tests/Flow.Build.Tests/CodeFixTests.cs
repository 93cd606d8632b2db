using Flow.Build.CodeFixes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;

namespace Flow.Build.Tests;

/// <summary>
/// The IDE fixes (Flow.Build.CodeFixes) for the generator's diagnostics, driven through a Roslyn workspace as an IDE
/// drives them: the generator runs over the source and reports the diagnostics the markup says, the fix registers one
/// action, the action is applied, and the fixed flow must build with no diagnostic left. (Roslyn's code-fix test
/// framework, Microsoft.CodeAnalysis.CSharp.CodeFix.Testing 1.1.4, never hands a source generator's diagnostics to the
/// fix under test, so it cannot test these.)
/// </summary>
public sealed class CodeFixTests
{
    [Fact]
    public Task StepWithoutNext_GetsNextOfTheStepDeclaredAfterIt() => Verify<AddNextFix>(
        """
        public partial class F : FlowSpec
        {
            [Step] public void Start() => Next(Train);

            [Step]
            public void {|FLOW0004:Train|}()
            {
                Console.WriteLine("training");
            }

            [Step] public void {|FLOW0007:End|}() { }
        }
        """,
        """
        public partial class F : FlowSpec
        {
            [Step] public void Start() => Next(Train);

            [Step]
            public void Train()
            {
                Console.WriteLine("training");
                Next(End);
            }

            [Step] public void End() { }
        }
        """);

    [Fact]
    public Task ExpressionBodiedStepWithoutNext_BecomesABlockThatCallsNext() => Verify<AddNextFix>(
        """
        public partial class F : FlowSpec
        {
            [Step] public void {|FLOW0004:Start|}() => Console.WriteLine("hi");

            [Step] public void {|FLOW0007:End|}() { }
        }
        """,
        """
        public partial class F : FlowSpec
        {
            [Step]
            public void Start()
            {
                Console.WriteLine("hi");
                Next(End);
            }

            [Step] public void End() { }
        }
        """);

    [Fact]
    public Task PublicStateThatWouldNotBeSaved_BecomesAPartialArtifact() => Verify<MakeArtifactFix>(
        """
        public partial class F : FlowSpec
        {
            public int {|FLOW0011:Count|} { get; set; }

            [Step] public void Start() { Count = 2; Next(End); }

            [Step] public void End() { }
        }
        """,
        """
        public partial class F : FlowSpec
        {
            public partial int Count { get; set; }

            [Step] public void Start() { Count = 2; Next(End); }

            [Step] public void End() { }
        }
        """);

    [Fact]
    public Task PublicField_BecomesAPartialArtifact() => Verify<MakeArtifactFix>(
        """
        public partial class F : FlowSpec
        {
            public string {|FLOW0011:Name|} = "";

            [Step] public void Start() { Name = "x"; Next(End); }

            [Step] public void End() { }
        }
        """,
        """
        public partial class F : FlowSpec
        {
            public partial string Name { get; set; }

            [Step] public void Start() { Name = "x"; Next(End); }

            [Step] public void End() { }
        }
        """);

    [Fact]
    public Task BranchesMeetingAtAStepThatIsNotAJoin_MakeItAJoin() => Verify<AddInputsFix>(
        """
        public partial class F : FlowSpec
        {
            [Step] public void {|FLOW0023:Start|}() => Next(A, B);

            [Step] public void A() => Next(Meet);

            [Step] public void B() => Next(Meet);

            [Step] public void {|FLOW0027:Meet|}() => Next(End);

            [Step] public void End() { }
        }
        """,
        """
        public partial class F : FlowSpec
        {
            [Step] public void Start() => Next(A, B);

            [Step] public void A() => Next(Meet);

            [Step] public void B() => Next(Meet);

            [Step] public void Meet(Inputs<F> inputs) => Next(End);

            [Step] public void End() { }
        }
        """);

    [Fact]
    public Task ParameterWithASetter_BecomesInitOnly() => Verify<InitOnlyParameterFix>(
        """
        public partial class F : FlowSpec
        {
            [Parameter] public int {|FLOW0013:Epochs|} { get; set; } = 3;

            [Step] public void Start() => Next(End);

            [Step] public void End() { }
        }
        """,
        """
        public partial class F : FlowSpec
        {
            [Parameter] public int Epochs { get; init; } = 3;

            [Step] public void Start() => Next(End);

            [Step] public void End() { }
        }
        """);

    [Fact]
    public Task ForeachOverASingleValue_DeclaresItAnArray() => Verify<ForeachCollectionFix>(
        """
        public partial class F : FlowSpec
        {
            public partial int Items { get; set; }

            [Step] public void Start() { Next(Each, {|FLOW0009:forEach: nameof(Items)|}); }

            [Step] public void Each(int {|FLOW0010:item|}) => Next(Join);

            [Step] public void {|FLOW0024:Join|}(Inputs<F> inputs) => Next(End);

            [Step] public void End() { }
        }
        """,
        """
        public partial class F : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step] public void Start() { Next(Each, forEach: nameof(Items)); }

            [Step] public void Each(int item) => Next(Join);

            [Step] public void Join(Inputs<F> inputs) => Next(End);

            [Step] public void End() { }
        }
        """);

    /// <summary>
    /// <paramref name="source"/> marks each diagnostic the generator must report as <c>{|FLOWnnnn:text|}</c>; the fix is
    /// asked for the one it fixes, its single action applied (with the formatting and simplification an IDE applies),
    /// and the result must be <paramref name="fixedSource"/>, a flow the generator accepts and the compiler builds.
    /// </summary>
    private static async Task Verify<TFix>(string source, string fixedSource)
        where TFix : CodeFixProvider, new()
    {
        const string Usings = "using System;\nusing Flow.Sdk;\n\n";
        var (text, expected) = Markup(Usings + source);
        using var workspace = new AdhocWorkspace();
        var document = workspace.AddProject("FlowProject", LanguageNames.CSharp)
            .WithMetadataReferences(GeneratorHarness.References)
            .WithParseOptions(GeneratorHarness.ParseOptions())
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable))
            .AddDocument("F.cs", text, filePath: "/src/F.cs");
        var compilation = (CSharpCompilation)(await document.Project.GetCompilationAsync())!;

        var reported = GeneratorHarness.Run(compilation).GeneratorDiagnostics;
        reported.Select(d => $"{d.Id}@{d.Location.SourceSpan}").Order().ShouldBe(expected.Order(), string.Join("\n", reported));
        var fix = new TFix();
        var diagnostic = reported.Single(d => fix.FixableDiagnosticIds.Contains(d.Id));
        var actions = new List<CodeAction>();
        await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        var operations = await actions.ShouldHaveSingleItem().GetOperationsAsync(CancellationToken.None);
        var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution.GetDocument(document.Id)!;

        (await changed.GetTextAsync()).ToString().ShouldBe(Usings + fixedSource);
        var built = GeneratorHarness.Run(new SourceFile("/src/F.cs", Usings + fixedSource));
        built.GeneratorDiagnostics.ShouldBeEmpty(built.Describe());
        built.OutputErrors.Where(e => e.Id != "CS5001").ShouldBeEmpty(); // no Main: the test compilation is not a flow project
    }

    /// <summary>The source without its <c>{|ID:text|}</c> marks, and each mark as <c>ID@[start..end)</c>.</summary>
    private static (string Text, List<string> Expected) Markup(string source)
    {
        var expected = new List<string>();
        var text = new System.Text.StringBuilder();
        var at = 0;
        foreach (System.Text.RegularExpressions.Match mark in System.Text.RegularExpressions.Regex.Matches(source, @"\{\|(FLOW\d+):(.*?)\|\}"))
        {
            text.Append(source, at, mark.Index - at);
            expected.Add($"{mark.Groups[1].Value}@[{text.Length}..{text.Length + mark.Groups[2].Length})");
            text.Append(mark.Groups[2].Value);
            at = mark.Index + mark.Length;
        }
        text.Append(source, at, source.Length - at);
        return (text.ToString(), expected);
    }
}
