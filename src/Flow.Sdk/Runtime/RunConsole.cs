using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Flow.Sdk.Runtime;

/// <summary>How <c>run</c> and <c>resume</c> report on the console (docs/architecture.md, "Progress").</summary>
internal enum ConsoleMode
{
    /// <summary>Every line: each task's start and end, its output, failures. Redirected output (CI logs) and <c>--verbose-tasks</c>.</summary>
    Plain,

    /// <summary>On a terminal: a live summary per step, the tasks' output and failures; no start and end line per task.</summary>
    Live,

    /// <summary><c>--quiet</c>: the summary and failures only (on a terminal the summary is live; otherwise once at the end).</summary>
    Quiet,
}

/// <summary>
/// The orchestrator's console. In <see cref="ConsoleMode.Plain"/> it prints what it is given as it comes; in the
/// other modes it keeps per-step counts (done, running, failed, queued) and, on a terminal, redraws them below the
/// printed lines a few times a second, with the elapsed time and, for a wide step, an estimate of the time left.
/// A failed task's error is printed the moment it happens in every mode.
/// </summary>
internal static class RunConsole
{
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<string, StepCounts> s_steps = new(StringComparer.Ordinal);
    private static readonly List<string> s_order = [];
    private static ConsoleMode s_mode = ConsoleMode.Plain;
    private static bool s_terminal;
    private static int s_drawn;
    private static long s_started;
    private static Timer? s_timer;
    private static bool s_finished;

    /// <summary>Gets the mode in use.</summary>
    public static ConsoleMode Mode => s_mode;

    /// <summary>Chooses the mode: plain when output is redirected (or asked for), live on a terminal, quiet when asked.</summary>
    public static void Configure(bool quiet, bool verboseTasks)
    {
        lock (s_gate)
        {
            s_terminal = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb");
            s_mode = quiet ? ConsoleMode.Quiet : verboseTasks || !s_terminal ? ConsoleMode.Plain : ConsoleMode.Live;
            s_started = Stopwatch.GetTimestamp();
            s_steps.Clear();
            s_order.Clear();
            s_drawn = 0;
            s_finished = false;
            if (s_mode != ConsoleMode.Plain && s_terminal)
            {
                s_timer = new Timer(_ => Redraw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
            }
        }
    }

    /// <summary>A line about the run (started, resuming): printed in every mode.</summary>
    public static void Info(string text) => Print(text, isError: false);

    /// <summary>A line of a task's output: printed except in quiet mode.</summary>
    public static void TaskOutput(string prefix, bool isError, string text)
    {
        if (s_mode != ConsoleMode.Quiet)
        {
            Print($"{prefix} {text}", isError);
        }
    }

    /// <summary>A task's start, end or clone: printed in plain mode only (the summary counts it otherwise).</summary>
    public static void TaskEvent(string prefix, string text)
    {
        if (s_mode == ConsoleMode.Plain)
        {
            Print($"{prefix} {text}", isError: false);
        }
    }

    /// <summary>A failure, a retry, a stop: printed in every mode, at once.</summary>
    public static void Important(string text, bool isError = false) => Print(text, isError);

    /// <summary>A task was queued to run (or to be cloned).</summary>
    public static void Queued(string step) => Count(step, c => c.Queued++);

    /// <summary>A queued task started.</summary>
    public static void Started(string step) => Count(step, c =>
    {
        c.Queued = Math.Max(0, c.Queued - 1);
        c.Running++;
        c.FirstStart ??= Stopwatch.GetTimestamp();
    });

    /// <summary>A running task succeeded.</summary>
    public static void Succeeded(string step) => Count(step, c => { c.Running = Math.Max(0, c.Running - 1); c.Done++; });

    /// <summary>A queued task was cloned from the origin run.</summary>
    public static void Cloned(string step) => Count(step, c => { c.Queued = Math.Max(0, c.Queued - 1); c.Cloned++; });

    /// <summary>A running task failed for good (not retried).</summary>
    public static void Failed(string step) => Count(step, c => { c.Running = Math.Max(0, c.Running - 1); c.Failed++; });

    /// <summary>A running task failed and will run again (it is queued again).</summary>
    public static void Retried(string step) => Count(step, c => c.Running = Math.Max(0, c.Running - 1));

    /// <summary>Stops redrawing and leaves the final summary on the console (above the run's last line).</summary>
    public static void Finish()
    {
        lock (s_gate)
        {
            s_timer?.Dispose();
            s_timer = null;
            if (s_mode == ConsoleMode.Plain || s_finished)
            {
                return;
            }
            s_finished = true;
            if (s_terminal)
            {
                Erase();
                foreach (var line in Summary())
                {
                    Console.Out.WriteLine(line);
                }
                s_drawn = 0;
            }
            else
            {
                foreach (var line in Summary())
                {
                    Console.Out.WriteLine(line);
                }
            }
            Console.Out.Flush();
        }
    }

    /// <summary>The summary's lines: one per step that has tasks, then the elapsed time.</summary>
    internal static List<string> Summary()
    {
        var lines = new List<string>();
        var width = s_order.Count == 0 ? 0 : s_order.Max(s => s.Length);
        foreach (var name in s_order)
        {
            var c = s_steps[name];
            var text = new StringBuilder("  ").Append(name.PadRight(width)).Append("  ");
            var parts = new List<string>();
            if (c.Done > 0 || (c.Cloned == 0 && c.Failed == 0 && c.Running == 0))
            {
                parts.Add($"{c.Done} done");
            }
            if (c.Cloned > 0)
            {
                parts.Add($"{c.Cloned} cloned");
            }
            if (c.Running > 0)
            {
                parts.Add($"{c.Running} running");
            }
            if (c.Failed > 0)
            {
                parts.Add($"{c.Failed} failed");
            }
            if (c.Queued > 0)
            {
                parts.Add($"{c.Queued} queued");
            }
            text.Append(string.Join(" · ", parts));
            var left = c.Running + c.Queued;
            if (c.FirstStart is { } first && c.Done > 0 && left > 0 && c.Done + left >= 10)
            {
                var seconds = Stopwatch.GetElapsedTime(first).TotalSeconds / c.Done * left;
                text.Append("   about ").Append(Duration(seconds)).Append(" left");
            }
            lines.Add(text.ToString());
        }
        lines.Add($"  elapsed {Duration(Stopwatch.GetElapsedTime(s_started).TotalSeconds)}");
        return lines;
    }

    private static string Duration(double seconds) => seconds < 60
        ? string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0} s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 60)} min {(int)(seconds % 60)} s");

    private static void Count(string step, Action<StepCounts> change)
    {
        if (s_mode == ConsoleMode.Plain)
        {
            return;
        }
        lock (s_gate)
        {
            if (!s_steps.TryGetValue(step, out var counts))
            {
                counts = new StepCounts();
                s_steps[step] = counts;
                s_order.Add(step);
            }
            change(counts);
        }
    }

    private static void Print(string text, bool isError)
    {
        lock (s_gate)
        {
            Erase();
            (isError ? Console.Error : Console.Out).WriteLine(text);
        }
    }

    /// <summary>Draws the summary again below the printed lines (terminal only).</summary>
    private static void Redraw()
    {
        lock (s_gate)
        {
            if (s_timer is null)
            {
                return;
            }
            Erase();
            var width = SafeWidth();
            var lines = Summary();
            foreach (var line in lines)
            {
                Console.Out.Write(line.Length < width ? line : line[..Math.Max(0, width - 1)]);
                Console.Out.Write('\n');
            }
            Console.Out.Flush();
            s_drawn = lines.Count;
        }
    }

    /// <summary>Moves up over the summary drawn last and clears it (ANSI: cursor up, erase below).</summary>
    private static void Erase()
    {
        if (s_drawn > 0)
        {
            Console.Out.Write($"\u001b[{s_drawn}F\u001b[J");
            Console.Out.Flush();
            s_drawn = 0;
        }
    }

    private static int SafeWidth()
    {
        try
        {
            return Console.WindowWidth > 10 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    private sealed class StepCounts
    {
        public int Done;
        public int Cloned;
        public int Running;
        public int Failed;
        public int Queued;
        public long? FirstStart;
    }
}
