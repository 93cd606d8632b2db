namespace Flow.EndToEnd.Tests;

/// <summary>
/// A project created from the template with extra flows that fail in every way a run can fail, built once and
/// shared by the tests that only run flows in it.
/// </summary>
internal static class LabProject
{
    private static readonly Lock s_gate = new();
    private static string? s_dir;

    public const string Flows = """
        using Flow.Sdk;

        namespace Lab;

        /// <summary>Fails in its second step.</summary>
        public partial class FailFlow : FlowSpec
        {
            public partial int Before { get; set; }

            [Step] public void Start() { Before = 1; Next(Explode); }

            [Step] public void Explode() { Console.WriteLine("about to fail"); Thrower.Throw(); Next(End); }

            [Step] public void End() { }
        }

        internal static class Thrower
        {
            public static void Throw() => throw new InvalidOperationException("boom from user code");
        }

        public partial class BadArtifactFlow : FlowSpec
        {
            public partial Type Kind { get; set; }

            [Step] public void Start() { Kind = typeof(string); Next(End); }

            [Step] public void End() { }
        }

        public partial class TypedFlow : FlowSpec
        {
            [Parameter(Help = "How many squares")]
            public int Count { get; init; } = 3;

            public partial int[] Squares { get; set; }

            public partial string WhereAmI { get; set; }

            [Step] public void Start() { Squares = [.. Enumerable.Range(0, Count).Select(i => i * i)]; WhereAmI = AppContext.BaseDirectory; Next(End); }

            [Step] public void End() => Console.WriteLine($"sum {Squares.Sum()}");
        }

        /// <summary>A foreach of four children that each sleep a second: shows how many ran at once.</summary>
        public partial class SleepyForeachFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step] public void Start() { Items = [0, 1, 2, 3]; Next(Nap, forEach: nameof(Items)); }

            [Step] public void Nap(int item) { Thread.Sleep(1000); Next(Join); }

            [Step] public void Join(Inputs<SleepyForeachFlow> inputs) => Next(End);

            [Step] public void End() { }
        }

        public partial class WaitingForeachFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step] public void Start() { Items = [0, 1, 2, 3, 4, 5]; Next(Wait, forEach: nameof(Items)); }

            [Step] public void Wait(int item) { Thread.Sleep(2500); Next(Join); }

            [Step] public void Join(Inputs<WaitingForeachFlow> inputs) => Next(End);

            [Step] public void End() { }
        }

        public partial class ExitFlow : FlowSpec
        {
            [Step] public void Start() { Environment.Exit(3); Next(End); }

            [Step] public void End() { }
        }
        """;

    public static string Get(PackedProduct product)
    {
        lock (s_gate)
        {
            if (s_dir is null)
            {
                var dir = product.NewProject("Lab");
                File.WriteAllText(Path.Combine(dir, "LabFlows.cs"), Flows);
                PackedProduct.Must(product.Flow(dir, "show", "--flow", "TypedFlow"));
                s_dir = dir;
            }
            return s_dir;
        }
    }

    public static int RunCount(string dir, string flow)
    {
        var runs = Path.Combine(dir, ".flow", "runs", flow);
        return Directory.Exists(runs) ? Directory.GetDirectories(runs).Length : 0;
    }
}
