using System.Globalization;
using System.IO.Abstractions;
using System.Text;
using Flow.Sdk;
using Flow.Sdk.Datastore;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary>The runs a datastore command looks at: all, a flow's, or one run (<c>[Flow/]run</c>, <c>latest</c> allowed).</summary>
internal abstract class StoreCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : ProjectCommand(console, fs, cwd)
{
    [Argument(0, "run", Description = "[Flow/]run to look at (default: every run of every flow).")]
    public string? Run { get; set; }

    [Option("--flow <NAME>", Description = "Only this flow.")]
    public string? Flow { get; set; }

    protected (string? Flow, string? Run) Scope(FlowDatastore store) => Run is null ? (Flow, null) : Resolve(store, Run, Flow);

    /// <summary>A run named <c>[Flow/]run</c> (<c>latest</c> allowed): its flow and id.</summary>
    internal static (string Flow, string Run) Resolve(FlowDatastore store, string name, string? flowOption)
    {
        var spec = Sdk.Pathspec.ParseRun(name, flowOption);
        var flows = store.ListFlows();
        var flow = spec.Flow ?? (flows.Count == 1 ? flows[0]
            : throw new FlowException(flows.Count == 0 ? $"The datastore {store.Root} holds no runs." : $"Name the flow: {name} could be a run of {string.Join(", ", flows)} (use Flow/run or --flow)."));
        return (flow, GetRun(store, flow, spec.Run).Id);
    }

    internal static string Size(long bytes) => Bytes(bytes);

    protected static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };
}

/// <summary><c>dotnet flow verify [--repair]</c>: reads every blob the runs use and reports the damaged ones.</summary>
[Command("verify", Description = "Check every blob the runs use (or one [Flow/]run's); --repair moves damaged ones aside and marks the tasks that use them, so resume recomputes them.", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class VerifyCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : StoreCommand(console, fs, cwd)
{
    [Option("--repair", Description = "Move damaged blobs to .flow/damaged/ and mark the tasks that use them.")]
    public bool Repair { get; set; }

    public int OnExecute()
    {
        CheckUsage("verify", Flow);
        var store = OpenStore();
        var (flow, run) = Scope(store);
        var inspector = new DatastoreInspector(store);
        var inventory = inspector.Take(flow, run);
        var damaged = inspector.Verify(inventory.Uses);
        var blobs = inventory.Uses.Select(u => u.Sha).Distinct(StringComparer.Ordinal).Count();
        var runs = inventory.Runs.Count;
        if (damaged.Count == 0 && inventory.Problems.Count == 0)
        {
            Console.Out.WriteLine($"Verified {blobs} blob(s) used by {runs} run(s): all intact.");
            return ExitCodes.Success;
        }
        // A blob is shared across runs: every run that uses a damaged one is named (and marked by --repair).
        var everywhere = flow is null && run is null ? inventory : inspector.Take();
        var text = new StringBuilder();
        foreach (var problem in inventory.Problems)
        {
            text.AppendLine(problem.What);
        }
        foreach (var (sha, reason) in damaged.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            text.AppendLine(reason);
            var users = everywhere.Uses.Where(u => u.Sha == sha).OrderBy(u => u.Flow, StringComparer.Ordinal).ThenBy(u => u.Run, StringComparer.Ordinal).ThenBy(u => u.Task).ToList();
            foreach (var use in users.Take(10))
            {
                text.Append("  used by ").AppendLine(use.User);
            }
            if (users.Count > 10)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  and {users.Count - 10} more");
            }
        }
        Console.Out.Write(text.ToString());
        if (Repair)
        {
            if (!store.IsWritable())
            {
                throw new FlowException($"The datastore {store.Root} is read-only: --repair cannot set anything aside (nothing was changed); run it as a user who can write there.", ExitCodes.Failure);
            }
            var (marked, moved) = inspector.Repair(damaged, everywhere.Uses, inventory.Problems);
            var lost = everywhere.Uses.Where(u => u.AttemptDir is null && damaged.ContainsKey(u.Sha)).Select(u => u.User).Distinct().ToList();
            Console.Out.WriteLine($"Moved {damaged.Count} damaged blob(s) and {moved} damaged record(s) to {store.DamagedDir} and marked {marked} task attempt(s); 'dotnet flow resume' recomputes them.");
            foreach (var user in lost.Take(20))
            {
                // Parameters and code files belong to no task: resume cannot recompute them.
                Console.Out.WriteLine($"  not recomputable: {user} (start a new run for it; 'dotnet flow code' cannot restore a damaged code file)");
            }
            var unrepairable = inventory.Problems.Count(p => !p.Repairable);
            Console.Error.WriteLine(unrepairable > 0
                ? $"error: {unrepairable} problem(s) above cannot be repaired by verify; follow the advice on each line."
                : $"error: the datastore {store.Root} was damaged; what was damaged is set aside (above), and 'dotnet flow resume' recomputes the tasks that used it.");
            return ExitCodes.Failure;
        }
        var count = damaged.Count + inventory.Problems.Count;
        Console.Error.WriteLine($"error: {count} problem(s) found in {blobs} blob(s) and the records of {runs} run(s); run 'dotnet flow verify --repair' to set damage aside and mark the tasks that depend on it, so 'dotnet flow resume' recomputes them.");
        return ExitCodes.Failure;
    }
}

/// <summary><c>dotnet flow du</c>: what the runs hold (logical bytes) against what the datastore stores, per flow and run.</summary>
[Command("du", Description = "Show the size of each flow (and with --runs each run): logical bytes referenced, bytes stored, and the dedup ratio.", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class DuCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : StoreCommand(console, fs, cwd)
{
    [Option("--runs", Description = "One line per run as well.")]
    public bool Runs { get; set; }

    public int OnExecute()
    {
        CheckUsage("du", Flow);
        var store = OpenStore();
        var (flow, run) = Scope(store);
        var inspector = new DatastoreInspector(store);
        var inventory = inspector.Take(flow, run);
        var uses = inventory.Uses;
        foreach (var problem in inventory.Problems)
        {
            Console.Error.WriteLine("warning: " + problem.What);
        }
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        long Stored(IEnumerable<BlobUse> some) => some.Select(u => u.Sha).Distinct(StringComparer.Ordinal)
            .Sum(sha => stored.TryGetValue(sha, out var size) ? size : stored[sha] = inspector.StoredSize(sha));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"Flow / run",-40} {"Runs",5} {"Logical",12} {"Stored",12}");
        foreach (var byFlow in uses.GroupBy(u => u.Flow).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var runCount = byFlow.Select(u => u.Run).Distinct().Count();
            text.AppendLine(CultureInfo.InvariantCulture, $"{byFlow.Key,-40} {runCount,5} {Bytes(byFlow.Sum(u => u.Size)),12} {Bytes(Stored(byFlow)),12}");
            if (Runs)
            {
                foreach (var byRun in byFlow.GroupBy(u => u.Run).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"{"  " + byRun.Key,-40} {"",5} {Bytes(byRun.Sum(u => u.Size)),12} {Bytes(Stored(byRun)),12}");
                }
            }
        }
        var logical = uses.Sum(u => u.Size);
        var total = Stored(uses);
        var ratio = total == 0 ? 1.0 : logical / (double)total;
        text.AppendLine(CultureInfo.InvariantCulture, $"{"Total",-40} {uses.Select(u => (u.Flow, u.Run)).Distinct().Count(),5} {Bytes(logical),12} {Bytes(total),12}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Logical bytes are the sizes of every value every task references; stored bytes are the distinct blobs on disk (compressed). Dedup and compression ratio: {ratio:0.0}x.");
        Console.Out.Write(text.ToString());
        return ExitCodes.Success;
    }
}

/// <summary>
/// <c>dotnet flow gc</c>: removes the runs no retention rule keeps, then every blob no remaining run reaches, code
/// folders no run uses and old temp files; <c>--dry-run</c> shows what would go and how much it frees.
/// </summary>
[Command("gc", Description = "Free space: remove runs that no --keep-* rule keeps (none without a rule), then every blob no remaining run uses. Running runs and each flow's latest successful run are always kept.", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class GcCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : ProjectCommand(console, fs, cwd)
{
    [Option("--keep-last <N>", Description = "Keep the newest N runs of each flow.")]
    public string? KeepLastOption { get; set; }

    [Option("--keep-days <DAYS>", Description = "Keep runs started within the last DAYS days.")]
    public string? KeepDaysOption { get; set; }

    [Option("--keep-tag <TAG>", Description = "Keep runs with this tag (repeatable).")]
    public string[] KeepTags { get; set; } = [];

    [Option("--flow <NAME>", Description = "Only remove runs of this flow (blobs are shared, so they are collected for the whole datastore).")]
    public string? Flow { get; set; }

    [Option("--grace <MINUTES>", Description = "Never collect blobs written or reused in the last MINUTES minutes (default 15): a run writing now may not have recorded them yet.")]
    public string? GraceOption { get; set; }

    [Option("--dry-run", Description = "Show what would be removed and how much it frees; change nothing.")]
    public bool DryRun { get; set; }

    public int OnExecute()
    {
        CheckUsage("gc", Flow);
        int? keepLast = KeepLastOption is null ? null : (int)InputChecks.Whole("--keep-last", KeepLastOption, 0, int.MaxValue, "--keep-last 10");
        double? keepDays = KeepDaysOption is null ? null : InputChecks.Number("--keep-days", KeepDaysOption, 0, 1e6, "--keep-days 30");
        double? grace = GraceOption is null ? null : InputChecks.Number("--grace", GraceOption, 0, 1e8, "--grace 15");
        var badTag = KeepTags.FirstOrDefault(t => string.IsNullOrWhiteSpace(t) || t.Any(char.IsControl) || t.Length > TagRules.MaxLength);
        if (badTag is not null)
        {
            throw new FlowException($"--keep-tag '{InputChecks.Shorten(badTag)}' is not a tag: a tag has 1 to {TagRules.MaxLength} characters, not only spaces; give a tag the runs to keep carry (gc --keep-tag baseline).");
        }
        var store = OpenStore();
        if (Flow is not null)
        {
            FlowClient.GetFlow(store, Flow);
        }
        if (!DryRun && !store.IsWritable())
        {
            throw new FlowException($"The datastore {store.Root} is read-only: gc cannot remove anything (nothing was changed); run it as a user who can write there, or use --dry-run.", ExitCodes.Failure);
        }
        var collector = new GarbageCollector(store);
        var plan = collector.Plan(new RetentionRules(keepLast, keepDays, KeepTags, Flow, grace is { } minutes ? TimeSpan.FromMinutes(minutes) : null));
        var listed = 0;
        void Report(string flow, string run, string why, string verb)
        {
            if (listed++ < 50)
            {
                Console.Out.WriteLine($"{verb} run {flow}/{run} ({why})");
            }
            else if (listed == 51)
            {
                Console.Out.WriteLine($"... and more (see --dry-run)");
            }
        }
        long freed;
        if (DryRun)
        {
            foreach (var (flow, run, why) in plan.Runs)
            {
                Report(flow, run, why, "Would remove");
            }
            freed = plan.FreedBytes;
        }
        else
        {
            freed = collector.Execute(plan, (flow, run, why) => Report(flow, run, why, "Removed"));
        }
        foreach (var problem in plan.Blocking.Take(10))
        {
            Console.Error.WriteLine("warning: " + problem.What);
        }
        var summary = $"{plan.Runs.Count} run(s) ({plan.KeptRuns} kept), {plan.Blobs.Count} blob(s) no kept run uses, {plan.Other.Count} other item(s) (unused code folders, stale temp files and leases)";
        Console.Out.WriteLine(DryRun
            ? $"Would remove {summary}: {StoreCommand.Size(freed)} would be freed. Nothing was changed (--dry-run)."
            : $"Removed {summary}: {StoreCommand.Size(freed)} freed.");
        if (plan.Blocking.Count > 0)
        {
            Console.Error.WriteLine($"error: no blob was collected: {plan.Blocking.Count} record(s) could not be read and might name any blob; run 'dotnet flow verify --repair', then gc again.");
            return ExitCodes.Failure;
        }
        return ExitCodes.Success;
    }
}
