// Flows of InterruptTests: long enough to be interrupted at several moments, a step that hangs past its
// [Timeout], a mix of pool and [Environment] tasks under --max-workers, a step that prints one enormous line.
using Flow.Sdk;

namespace InterruptLab;

/// <summary>Start, then 100 children that each sleep 300 ms, a join and End: a run of many seconds.</summary>
public partial class SleepyFlow : FlowSpec
{
    public partial int[] Items { get; set; }

    public partial long Square { get; set; }

    public partial long Total { get; set; }

    [Step] public void Start() { Thread.Sleep(500); Items = [.. Enumerable.Range(0, 100)]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { Thread.Sleep(300); Square = (long)item * item; Next(Join); }

    [Step] public void Join(Inputs<SleepyFlow> inputs) { Total = inputs.Sum(i => i.Square); Next(End); }

    [Step] public void End() { }
}

/// <summary>A step that would sleep a minute but has a 2 s [Timeout].</summary>
public partial class HangFlow : FlowSpec
{
    [Step] public void Start() => Next(Hang);

    [Step, Timeout(Seconds = 2)]
    public void Hang() { Console.WriteLine("hanging"); Thread.Sleep(60_000); Next(End); }

    [Step] public void End() { }
}

/// <summary>Tasks in the worker pool beside tasks in processes of their own ([Environment]): --max-workers caps both.</summary>
public partial class MixedFlow : FlowSpec
{
    public partial int[] Items { get; set; }

    public partial int Seen { get; set; }

    [Step] public void Start() { Items = [1, 2, 3, 4, 5, 6]; Next(Own, Pool); }

    [Step, Environment("MIXED_OWN", "yes")]
    public void Own() { Thread.Sleep(2500); Seen = Environment.GetEnvironmentVariable("MIXED_OWN") == "yes" ? 1 : 0; Next(Done); }

    [Step] public void Pool() => Next(Each, forEach: nameof(Items));

    [Step] public void Each(int item) { Thread.Sleep(700); Seen = item; Next(Gather); }

    [Step] public void Gather(Inputs<MixedFlow> inputs) { Seen = inputs.Sum(i => i.Seen); Next(Done); }

    [Step] public void Done(Inputs<MixedFlow> inputs) => Next(End);

    [Step] public void End() { }
}

/// <summary>Prints one line of five million characters, then a short one.</summary>
public partial class LongLineFlow : FlowSpec
{
    [Step] public void Start() { Console.Out.Write(new string('x', 5_000_000)); Console.Out.WriteLine(); Console.Out.WriteLine("after"); Next(End); }

    [Step] public void End() { }
}

/// <summary>Parameters whose option names FlowRunner must take from the generator: an acronym and an explicit name.</summary>
public partial class NamedParametersFlow : FlowSpec
{
    [Parameter] public int HTTPPort { get; init; } = 80;

    [Parameter("creature")] public string Animal { get; init; } = "cat";

    public partial string Seen { get; set; }

    [Step] public void Start() { Seen = $"{HTTPPort} {Animal}"; Next(End); }

    [Step] public void End() { }
}
