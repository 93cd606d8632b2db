using Flow.Build.Tasks;
using Flow.Tests;

namespace Flow.Build.Tests;

/// <summary>
/// Step fingerprints (resume after an edit, docs/resume.md): a step's fingerprint changes when its code or code it
/// calls in the project changes (through lambdas and async state machines too), and not for a comment, formatting
/// or an edit of another step.
/// </summary>
public sealed class StepFingerprintTests : IDisposable
{
    private readonly TempDirectory _temp = new("flow-fingerprints-");

    public void Dispose() => _temp.Dispose();

    private const string Flow = """
        using Flow.Sdk;
        using System.Linq;
        using System.Threading.Tasks;

        public partial class PrintFlow : FlowSpec
        {
            public partial int Total { get; set; }

            [Step] public void Start() { Total = Helpers.Scale(2); Next(Train); }

            // TRAIN
            [Step] public async Task Train() { await Task.Yield(); Total = new[] { 1, 2, 3 }.Select(x => x * FACTOR).Sum(); Next(End); }

            [Step] public void End() { System.Console.WriteLine("END"); }
        }

        internal static class Helpers
        {
            public static int Scale(int x) => x * HELPER;
        }
        """;

    private Dictionary<string, string> Fingerprints(string source, string name)
    {
        var compiled = GeneratorHarness.Run(new SourceFile("/src/app/Flows/PrintFlow.cs", source));
        compiled.OutputErrors.ShouldBeEmpty(compiled.Describe());
        var path = _temp.Combine(name + ".dll");
        using (var file = File.Create(path))
        {
            var result = compiled.Output.Emit(file);
            result.Success.ShouldBeTrue(string.Join(Environment.NewLine, result.Diagnostics));
        }
        return StepFingerprints.Read(path, "PrintFlow", ["Start", "Train", "End"]);
    }

    private static string Variant(string factor = "2", string helper = "3", string end = "END", string comment = "// TRAIN") =>
        Flow.Replace("FACTOR", factor).Replace("HELPER", helper).Replace("\"END\"", $"\"{end}\"").Replace("// TRAIN", comment);

    [Fact]
    public void EveryStepHasOne_AndACommentOrFormattingChangesNone()
    {
        var before = Fingerprints(Variant(), "a");
        var after = Fingerprints(Variant(comment: "// a different comment\n\n   "), "b");

        before.Keys.ShouldBe(["Start", "Train", "End"], ignoreOrder: true);
        after.ShouldBe(before);
    }

    [Fact]
    public void AnEditOfAMethodAStepCalls_ChangesThatStepOnly()
    {
        var before = Fingerprints(Variant(), "a");
        var after = Fingerprints(Variant(helper: "4"), "b");

        after["Start"].ShouldNotBe(before["Start"]);
        after["Train"].ShouldBe(before["Train"]);
        after["End"].ShouldBe(before["End"]);
    }

    [Fact]
    public void AnEditInsideALambdaOfAnAsyncStep_ChangesThatStep()
    {
        var before = Fingerprints(Variant(), "a");
        var after = Fingerprints(Variant(factor: "5"), "b");

        after["Train"].ShouldNotBe(before["Train"]);
        after["Start"].ShouldBe(before["Start"]);
    }

    [Fact]
    public void AnEditOfAString_ChangesItsStep()
    {
        var before = Fingerprints(Variant(), "a");
        var after = Fingerprints(Variant(end: "THE END"), "b");

        after["End"].ShouldNotBe(before["End"]);
        after["Train"].ShouldBe(before["Train"]);
    }
}
