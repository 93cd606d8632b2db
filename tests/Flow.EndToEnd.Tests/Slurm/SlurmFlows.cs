// Flows of SlurmTests: each step records the Slurm job it ran in (SLURM_JOB_ID, empty on this machine), so a test
// sees where every task ran.
using Flow.Sdk;

namespace SlurmLab;

/// <summary>A foreach as wide as Width, squares summed in the join; Start stays on this machine.</summary>
public partial class WideFlow : FlowSpec
{
    [Parameter] public int Width { get; init; } = 4;

    public partial int[] Items { get; set; }

    public partial int Square { get; set; }

    public partial long Total { get; set; }

    public partial string Job { get; set; }

    [Step, Local]
    public void Start()
    {
        Job = Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "";
        Items = [.. Enumerable.Range(0, Width)];
        Next(Each, forEach: nameof(Items));
    }

    [Step]
    public void Each(int item)
    {
        Job = Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "";
        Square = item * item;
        Console.WriteLine($"square of {item} is {Square}");
        Next(Join);
    }

    [Step]
    public void Join(Inputs<WideFlow> inputs)
    {
        Job = Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "";
        Total = inputs.Sum(i => (long)i.Square);
        Next(End);
    }

    [Step]
    public void End() => Job = Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "";
}

/// <summary>Only Heavy asks for Slurm (with resources); the rest runs here without --with slurm.</summary>
public partial class MixedFlow : FlowSpec
{
    public partial string Job { get; set; }

    public partial int Cpus { get; set; }

    [Step]
    public void Start()
    {
        Job = Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "";
        Next(Heavy);
    }

    [Step, Slurm(Time = "5"), Resources(Cpu = 1, MemoryMb = 256)]
    public void Heavy()
    {
        Job = Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "";
        Cpus = int.Parse(Environment.GetEnvironmentVariable("SLURM_CPUS_PER_TASK") ?? "0");
        Next(End);
    }

    [Step]
    public void End() => Job = Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "";
}

/// <summary>Fails on the cluster: Boom throws from user code, or exits with code 3 when Mode is "exit".</summary>
public partial class BoomFlow : FlowSpec
{
    [Parameter] public string Mode { get; init; } = "throw";

    [Step]
    public void Start() => Next(Boom);

    [Step]
    public void Boom()
    {
        Console.WriteLine("about to fail on the cluster");
        if (Mode == "exit")
        {
            Environment.Exit(3);
        }
        Detonator.Fire();
        Next(End);
    }

    [Step]
    public void End() { }
}

internal static class Detonator
{
    public static void Fire() => throw new InvalidOperationException("boom on a Slurm node");
}

/// <summary>
/// Sleep waits (up to two minutes) until the file Gate exists, writing Ready first; with [Retry] a cancelled attempt
/// runs again, and the retry finds the gate open.
/// </summary>
public partial class GateFlow : FlowSpec
{
    [Parameter] public string Gate { get; init; } = "";

    public partial int Attempt { get; set; }

    [Step]
    public void Start() => Next(Sleep);

    [Step, Retry(Times = 1)]
    public void Sleep()
    {
        Attempt = Current.Attempt;
        Console.WriteLine($"waiting at the gate (attempt {Current.Attempt})");
        File.WriteAllText(Gate + ".ready-" + Current.Attempt, Environment.GetEnvironmentVariable("SLURM_JOB_ID") ?? "");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(Gate) && waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            Thread.Sleep(100);
        }
        Console.WriteLine("through the gate");
        Next(End);
    }

    [Step]
    public void End() { }
}
