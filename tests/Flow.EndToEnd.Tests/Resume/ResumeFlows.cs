// Flows of ResumeAndLogsTests: FAIL_AT (comma-separated: Start, Middle, Each<item>, Join, End) makes a step throw;
// every step stamps the run it ran in, so a test sees which tasks a resume cloned and which it ran again.
using Flow.Sdk;

namespace ResumeLab;

public partial class ResumeLabFlow : FlowSpec
{
    [Parameter] public string Label { get; init; } = "plain";

    public partial int[] Items { get; set; }

    public partial string StartRun { get; set; }

    public partial string MiddleRun { get; set; }

    public partial string EachRun { get; set; }

    public partial int Value { get; set; }

    public partial int Total { get; set; }

    public partial string Runs { get; set; }

    public partial string JoinRun { get; set; }

    public partial string EndRun { get; set; }

    public partial string Origin { get; set; }

    private static void MaybeFail(string where)
    {
        if ((Environment.GetEnvironmentVariable("FAIL_AT") ?? "").Split(',').Contains(where))
        {
            throw new InvalidOperationException($"asked to fail at {where}");
        }
    }

    [Step] public void Start() { MaybeFail("Start"); StartRun = Current.RunId!; Items = [1, 2, 3, 4]; Next(Middle); }

    [Step] public void Middle() { MaybeFail("Middle"); MiddleRun = Current.RunId!; Console.WriteLine($"middle of {Label}"); Console.Error.WriteLine("a warning"); Next(Fan); }

    [Step] public void Fan() => Next(Each, forEach: nameof(Items));

    [Step]
    public void Each(int item)
    {
        Console.WriteLine($"item {item}");
        MaybeFail($"Each{item}");
        EachRun = Current.RunId!;
        Value = item * 10;
        Next(Join);
    }

    [Step]
    public void Join(Inputs<ResumeLabFlow> inputs)
    {
        MaybeFail("Join");
        Total = inputs.Sum(i => i.Value);
        Runs = string.Join(",", inputs.Select(i => i.EachRun));
        JoinRun = Current.RunId!;
        Next(End);
    }

    [Step] public void End() { MaybeFail("End"); EndRun = Current.RunId!; Origin = Current.OriginRunId ?? ""; }
}

/// <summary>Prints --lines lines of 100 characters: more than --max-log-size lets the log keep.</summary>
public partial class ChattyFlow : FlowSpec
{
    [Parameter] public int Lines { get; init; } = 20_000;

    [Step]
    public void Start()
    {
        var line = new string('x', 100);
        for (var i = 0; i < Lines; i++)
        {
            Console.WriteLine(line);
        }
        Next(End);
    }

    [Step] public void End() { }
}

/// <summary>[Retry], [Catch] and [Timeout]: a flaky step, a caught exception, a caught timeout, a caught crash.</summary>
public partial class RetryFlow : FlowSpec
{
    public partial int Tries { get; set; }

    public partial StepError? Problem { get; set; }

    public partial string Seen { get; set; }

    [Step] public void Start() { Tries = 0; Seen = ""; Next(Flaky); }

    /// <summary>Fails on its first two attempts.</summary>
    [Step, Retry(Times = 2)]
    public void Flaky()
    {
        Console.WriteLine($"attempt {Current.Attempt}");
        if (Current.Attempt < 2)
        {
            throw new InvalidOperationException($"flaky {Current.Attempt}");
        }
        Tries = Current.Attempt;
        Next(Risky);
    }

    [Step, Catch(Var = nameof(Problem))]
    public void Risky()
    {
        if (Tries >= 0)
        {
            throw new ArgumentException("always");
        }
        Next(Slow);
    }

    [Step, Timeout(Seconds = 1), Catch]
    public void Slow() { Seen += Problem?.Type; Thread.Sleep(30_000); Next(Crash); }

    [Step, Catch(Var = nameof(Problem))]
    public void Crash() { Seen += "|" + Problem?.Message; Environment.Exit(4); Next(End); }

    [Step] public void End() => Seen += "|" + Problem?.Type;
}

/// <summary>Two branches: one fails at once, the other sleeps; the failure ends the sleeping task too.</summary>
public partial class StopFlow : FlowSpec
{
    [Step] public void Start() => Next(Fails, Sleeps);

    [Step] public void Fails() { Thread.Sleep(500); Stop(); Next(Join); }

    [Step] public void Sleeps() { Thread.Sleep(60_000); Next(Join); }

    [Step] public void Join(Inputs<StopFlow> inputs) => Next(End);

    [Step] public void End() { }

    private static void Stop() => throw new InvalidOperationException("stop the run");
}

/// <summary>Prints a line every 300 ms, for logs --follow.</summary>
public partial class SlowPrintFlow : FlowSpec
{
    [Step] public void Start() => Next(Talk);

    [Step]
    public void Talk()
    {
        for (var i = 1; i <= 8; i++)
        {
            Console.WriteLine($"line {i}");
            Thread.Sleep(300);
        }
        Next(End);
    }

    [Step] public void End() { }
}

/// <summary>[Environment]: the variable is set for that step only, in a process of its own.</summary>
public partial class EnvFlow : FlowSpec
{
    public partial string Inside { get; set; }

    public partial string Outside { get; set; }

    public partial int InsidePid { get; set; }

    public partial int OutsidePid { get; set; }

    [Step] public void Start() { Outside = Environment.GetEnvironmentVariable("GREETING") ?? "-"; OutsidePid = Environment.ProcessId; Next(Greet); }

    [Step, Environment("GREETING", "hola"), Environment("TARGET", "mundo")]
    public void Greet() { Inside = $"{Environment.GetEnvironmentVariable("GREETING")} {Environment.GetEnvironmentVariable("TARGET")}"; InsidePid = Environment.ProcessId; Next(After); }

    [Step] public void After() { Outside += Environment.GetEnvironmentVariable("GREETING") ?? "-"; Next(End); }

    [Step] public void End() { }
}

/// <summary>A 100-task foreach of short sleeps, to be killed with SIGKILL mid-run and resumed.</summary>
public partial class KillFlow : FlowSpec
{
    public partial int[] Items { get; set; }

    public partial long Square { get; set; }

    public partial long Total { get; set; }

    [Step] public void Start() { Items = [.. Enumerable.Range(0, 100)]; Next(Each, forEach: nameof(Items)); }

    [Step] public void Each(int item) { Thread.Sleep(100); Square = (long)item * item; Next(Join); }

    [Step] public void Join(Inputs<KillFlow> inputs) { Total = inputs.Sum(i => i.Square); Next(End); }

    [Step] public void End() { }
}
