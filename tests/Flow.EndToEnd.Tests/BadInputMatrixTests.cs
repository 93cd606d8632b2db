using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Flow.Sdk;
using Flow.Tests;
using Xunit.Abstractions;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// Bad input, table-driven, through the packed tool in a project made from the template: every command and option
/// given values that are empty, blank, huge (10,000 characters), overflowing, not a number, negative, a file where
/// a folder is expected and the reverse, missing, unreadable, a read-only or damaged datastore, and several writers
/// at once. Each answer is checked the same way: the exit code (2 for bad input, 1 for a damaged or unwritable
/// datastore), exactly one stderr line that starts with <c>error: </c> and names the input, no stack trace and no
/// exception type name, and every file under <c>.flow/</c> (and the helper folders) byte-identical before and
/// after: a refused input writes nothing, and a read-only command never changes a byte.
/// </summary>
/// <remarks>
/// Permissions: the rows about unreadable paths and read-only datastores run the tool as an unprivileged user,
/// because root ignores file modes. Under root (as in CI) that is <c>setpriv</c> to uid/gid 65534 (nobody); as any
/// other user the tool runs as that user, for whom chmod already counts. When neither works those rows pass with
/// an explanation in the test output (xunit 2 has no runtime skip).
/// </remarks>
[Collection(PackedProductCollection.Name)]
[UnsupportedOSPlatform("windows")]
public sealed class BadInputMatrixTests(PackedProduct product, ITestOutputHelper output)
{
    private static readonly string s_huge = new('x', 10_000);
    private static readonly string s_hugeDigits = new('1', 10_000);
    private const string Overflow = "99999999999999999999";

    // ---- input: exit code 2, one line, nothing written ------------------------------------------------------

    public static TheoryData<string, string[], string> Inputs()
    {
        var rows = new TheoryData<string, string[], string>();
        void Row(string name, string mention, params string[] args) => rows.Add(name, args, mention);

        // Numbers of the flow executable's options (passed through by 'dotnet flow run').
        foreach (var (label, value) in new[] { ("empty", ""), ("blank", " "), ("huge", "{huge}"), ("overflowing", Overflow), ("NaN", "NaN"), ("negative", "-1"), ("zero", "0") })
        {
            Row($"run --max-workers {label}", "--max-workers", "run", "--flow", "InputFlow", "--max-workers", value);
        }
        foreach (var option in new[] { "--max-num-splits", "--max-log-size" })
        {
            foreach (var (label, value) in new[] { ("empty", ""), ("overflowing", Overflow), ("NaN", "NaN"), ("negative", "-1") })
            {
                Row($"run {option} {label}", option, "run", "--flow", "InputFlow", option, value);
            }
        }
        Row("run --quiet with --verbose-tasks", "--quiet and --verbose-tasks", "run", "--flow", "InputFlow", "--quiet", "--verbose-tasks");
        Row("resume --quiet with --verbose-tasks", "--quiet and --verbose-tasks", "resume", "--flow", "FailingFlow", "--quiet", "--verbose-tasks");
        Row("run --with empty", "--with", "run", "--flow", "InputFlow", "--with", "");
        Row("run --with huge", "--with", "run", "--flow", "InputFlow", "--with", "{huge}");
        Row("run --with retry:times overflowing", "--with", "run", "--flow", "InputFlow", "--with", "retry:times=" + Overflow);
        Row("resume --max-workers overflowing", "--max-workers", "resume", "--flow", "FailingFlow", "--max-workers", Overflow);

        // Flow parameters: an int, a double.
        foreach (var (label, value) in new[] { ("empty", ""), ("overflowing", Overflow), ("NaN", "NaN"), ("huge", "{huge}") })
        {
            Row($"run --count (int) {label}", "--count", "run", "--flow", "InputFlow", "--count", value);
        }
        Row("run --ratio (double) empty", "--ratio", "run", "--flow", "InputFlow", "--ratio", "");
        Row("run --ratio (double) overflowing to infinity", "--ratio", "run", "--flow", "InputFlow", "--ratio", "1e999");
        Row("run --ratio (double) not a number", "--ratio", "run", "--flow", "InputFlow", "--ratio", "abc");
        Row("run FLOW_RUN_COUNT overflowing", "FLOW_RUN_COUNT", "run", "--flow", "InputFlow", "@env:FLOW_RUN_COUNT=" + Overflow);
        Row("run unknown parameter", "--nope", "run", "--flow", "InputFlow", "--nope", "1");
        Row("run unknown parameter, huge name", "Unknown option", "run", "--flow", "InputFlow", "--{huge}", "1");
        Row("run stray argument, huge", "Unexpected argument", "run", "--flow", "InputFlow", "{huge}");

        // resume's own inputs.
        Row("resume --origin-run-id empty", "--origin-run-id", "resume", "--flow", "FailingFlow", "--origin-run-id", "");
        Row("resume --origin-run-id blank", "--origin-run-id", "resume", "--flow", "FailingFlow", "--origin-run-id", " ");
        Row("resume --origin-run-id huge", "--origin-run-id", "resume", "--flow", "FailingFlow", "--origin-run-id", "{huge}");
        Row("resume --origin-run-id negative", "--origin-run-id", "resume", "--flow", "FailingFlow", "--origin-run-id", "-1");
        Row("resume --origin-run-id overflowing (no such run)", Overflow, "resume", "--flow", "FailingFlow", "--origin-run-id", Overflow);
        Row("resume STEP empty", "STEP", "resume", "", "--flow", "FailingFlow");
        Row("resume STEP huge", "has no step", "resume", "{huge}", "--flow", "FailingFlow");
        Row("resume a parameter", "--count", "resume", "--flow", "FailingFlow", "--count", "3");

        // The tool's numbers.
        foreach (var (label, value) in new[] { ("empty", ""), ("blank", " "), ("overflowing", Overflow), ("NaN", "NaN"), ("negative", "-1"), ("huge", "{huge}") })
        {
            Row($"dump --max-value-size {label}", "max-value-size", "dump", "InputFlow/latest/Start", "--max-value-size", value);
            Row($"gc --keep-last {label}", "keep-last", "gc", "--keep-last", value);
        }
        foreach (var (label, value) in new[] { ("empty", ""), ("overflowing", Overflow), ("NaN", "NaN"), ("negative", "-1"), ("huge", "{huge}") })
        {
            Row($"logs --attempt {label}", "attempt", "logs", "InputFlow/latest/Start", "--attempt", value);
        }
        foreach (var (label, value) in new[] { ("empty", ""), ("overflowing", Overflow), ("NaN", "NaN"), ("negative", "-1"), ("infinite", "1e999") })
        {
            Row($"gc --keep-days {label}", "keep-days", "gc", "--keep-days", value);
        }
        foreach (var (label, value) in new[] { ("empty", ""), ("overflowing", Overflow), ("NaN", "NaN"), ("negative", "-1") })
        {
            Row($"gc --grace {label}", "grace", "gc", "--keep-last", "5", "--grace", value);
        }

        // --flow on every command.
        // Every command, as it would be valid but for the option a row adds: without a flow (for --flow), and whole.
        var withFlow = new (string Command, string[] Args)[]
        {
            ("run", ["run"]), ("resume", ["resume"]), ("show", ["show"]), ("dump", ["dump", "latest/Start"]), ("logs", ["logs", "latest/Start"]),
            ("verify", ["verify"]), ("du", ["du"]), ("gc", ["gc", "--keep-last", "5"]), ("tag", ["tag", "list", "latest"]), ("code", ["code", "latest"]),
            ("card", ["card", "get", "latest/Start"]),
        };
        var whole = new (string Command, string[] Args)[]
        {
            ("run", ["run", "--flow", "InputFlow"]), ("resume", ["resume", "--flow", "FailingFlow"]), ("show", ["show", "--flow", "InputFlow"]),
            ("dump", ["dump", "InputFlow/latest/Start"]), ("logs", ["logs", "InputFlow/latest/End"]), ("verify", ["verify"]), ("du", ["du"]),
            ("gc", ["gc", "--keep-last", "5"]), ("tag", ["tag", "list", "InputFlow/latest"]), ("code", ["code", "InputFlow/latest"]),
        };
        foreach (var (command, args) in withFlow)
        {
            Row($"{command} --flow empty", "flow name", [.. args, "--flow", ""]);
            Row($"{command} --flow huge", "flow name", [.. args, "--flow", "{huge}"]);
        }
        Row("show --flow blank", "flow name", "show", "--flow", " ");
        Row("verify --flow not a name", "flow name", "verify", "--flow", "-1");
        Row("run --flow unknown", "NoSuchFlow", "run", "--flow", "NoSuchFlow");

        // Pathspecs (dump, logs) and runs (verify, du, tag, code).
        foreach (var command in new[] { "dump", "logs" })
        {
            Row($"{command} pathspec empty", "pathspec", command, "");
            Row($"{command} pathspec blank", "pathspec", command, " ");
            Row($"{command} pathspec huge", "pathspec", command, "{huge}");
            Row($"{command} run id huge", "pathspec", command, "InputFlow/{digits}/Start");
            Row($"{command} run id overflowing", Overflow, command, $"InputFlow/{Overflow}/Start");
            Row($"{command} task id negative", "pathspec", command, "InputFlow/latest/Start/-1");
            Row($"{command} unknown flow, project of several flows", "NoSuchFlow", command, "NoSuchFlow/latest/End");
            Row($"{command} unknown step", "NoSuchStep", command, "InputFlow/latest/NoSuchStep");
        }
        // card get: a pathspec after the action; a step without a card; --file.
        Row("card unknown action", "bogus", "card", "bogus", "InputFlow/latest/Start");
        Row("card get pathspec missing", "pathspec", "card", "get");
        Row("card get pathspec blank", "pathspec", "card", "get", " ");
        Row("card get pathspec huge", "pathspec", "card", "get", "{huge}");
        Row("card get task id negative", "pathspec", "card", "get", "InputFlow/latest/Start/-1");
        Row("card get unknown step", "NoSuchStep", "card", "get", "InputFlow/latest/NoSuchStep");
        Row("card get a task without a card", "has no card", "card", "get", "InputFlow/latest/Start");
        Row("card get --file empty", "--file", "card", "get", "InputFlow/latest/Start", "--file", "");
        Row("card get --file huge", "too long", "card", "get", "InputFlow/latest/Start", "--file", "{huge}");
        foreach (var args in new[] { new[] { "verify" }, ["du"], ["tag", "list"], ["code"] })
        {
            var command = string.Join(' ', args);
            Row($"{command} run empty", "run", [.. args, ""]);
            Row($"{command} run huge", "run", [.. args, "{huge}"]);
            Row($"{command} run id huge", "run", [.. args, "InputFlow/{digits}"]);
            Row($"{command} run id overflowing", Overflow, [.. args, $"InputFlow/{Overflow}"]);
            Row($"{command} unknown flow", "NoSuchFlow", [.. args, "NoSuchFlow/latest"]);
        }

        // Tags.
        Row("tag add empty", "Tag ''", "tag", "add", "InputFlow/latest", "");
        Row("tag add blank", "Tag ' '", "tag", "add", "InputFlow/latest", " ");
        Row("tag add huge", "is invalid", "tag", "add", "InputFlow/latest", "{huge}");
        Row("tag add system tag", "reserved", "tag", "add", "InputFlow/latest", "user:someone");
        Row("tag replace with empty", "Tag ''", "tag", "replace", "InputFlow/latest", "keep", "");
        Row("tag remove a tag it does not have", "nope", "tag", "remove", "InputFlow/latest", "nope");
        Row("tag unknown action", "bogus", "tag", "bogus", "InputFlow/latest");
        Row("tag add without a run", "Usage", "tag", "add");
        Row("tag add without a tag", "at least one tag", "tag", "add", "InputFlow/latest");
        Row("gc --keep-tag empty", "--keep-tag", "gc", "--keep-tag", "");
        Row("gc --keep-tag blank", "--keep-tag", "gc", "--keep-tag", " ");
        Row("gc --keep-tag huge", "--keep-tag", "gc", "--keep-tag", "{huge}");
        Row("run --tag empty", "Tag ''", "run", "--flow", "InputFlow", "--tag", "");
        Row("run --tag huge", "is invalid", "run", "--flow", "InputFlow", "--tag", "{huge}");
        Row("run --tag system tag", "reserved", "run", "--flow", "InputFlow", "--tag", "runtime:x");

        // Other names and words.
        Row("show --format empty", "--format", "show", "--flow", "InputFlow", "--format", "");
        Row("show --format huge", "--format", "show", "--flow", "InputFlow", "--format", "{huge}");
        Row("show --format wrong case", "--format 'DOT'", "show", "--flow", "InputFlow", "--format", "DOT");
        Row("show -c empty", "--configuration", "show", "--flow", "InputFlow", "-c", "");
        Row("show -c huge", "--configuration", "show", "--flow", "InputFlow", "-c", "{huge}");
        Row("show -c a path", "--configuration", "show", "--flow", "InputFlow", "-c", "../x");
        Row("run -c empty", "--configuration", "run", "--flow", "InputFlow", "-c", "");
        Row("resume -c blank", "--configuration", "resume", "--flow", "FailingFlow", "-c", " ");
        Row("dump --include empty", "--include", "dump", "InputFlow/latest/Start", "--include", "");
        Row("dump --include only commas", "--include", "dump", "InputFlow/latest/Start", "--include", ",,,");
        Row("dump --include unknown artifact", "NoSuchArtifact", "dump", "InputFlow/latest/Start", "--include", "NoSuchArtifact");
        Row("dump --include without its value", "include", "dump", "InputFlow/latest/Start", "--include");
        Row("du extra argument", "extra", "du", "InputFlow/latest", "extra");
        Row("show extra argument", "extra", "show", "--flow", "InputFlow", "extra");
        Row("unknown command", "frobnicate", "frobnicate");
        Row("dump unknown option", "--bogus", "dump", "InputFlow/latest/Start", "--bogus");

        // --project: every command refuses an empty one; then the kinds of wrong path.
        foreach (var (command, args) in whole)
        {
            Row($"{command} --project empty", "--project", [.. args, "--project", ""]);
        }
        foreach (var args in new[] { new[] { "run", "--flow", "InputFlow" }, ["dump", "InputFlow/latest/Start"], ["verify"] })
        {
            var command = args[0];
            Row($"{command} --project blank", "--project", [.. args, "--project", " "]);
            Row($"{command} --project huge", "too long", [.. args, "--project", "{huge}"]);
            Row($"{command} --project a file that is not a project", "not a C# project file", [.. args, "--project", "{aux}/afile.txt"]);
            Row($"{command} --project missing", "No such project or folder", [.. args, "--project", "{aux}/missing"]);
            Row($"{command} --project a folder without a project", "No flow project in", [.. args, "--project", "{aux}/emptydir"]);
            Row($"{command} --project under a file", "No such project or folder", [.. args, "--project", "{aux}/afile.txt/sub"]);
        }

        // --datastore: every command refuses an empty one; then the kinds of wrong path.
        foreach (var (command, args) in whole)
        {
            Row($"{command} --datastore empty", "--datastore", [.. args, "--datastore", ""]);
        }
        foreach (var args in new[] { new[] { "run", "--flow", "InputFlow" }, ["dump", "InputFlow/latest/Start"], ["gc", "--keep-last", "5"] })
        {
            var command = args[0];
            Row($"{command} --datastore blank", "--datastore", [.. args, "--datastore", " "]);
            Row($"{command} --datastore huge", "too long", [.. args, "--datastore", "{huge}"]);
            Row($"{command} --datastore a file", "is a file", [.. args, "--datastore", "{aux}/afile.txt"]);
        }
        Row("verify --datastore a file", "is a file", "verify", "--datastore", "{aux}/afile.txt");
        Row("dump --datastore missing", "No datastore at", "dump", "InputFlow/latest/Start", "--datastore", "{aux}/missing");
        Row("verify --datastore missing", "No datastore at", "verify", "--datastore", "{aux}/missing");
        Row("tag list --datastore missing", "No datastore at", "tag", "list", "latest", "--datastore", "{aux}/missing");
        Row("code --datastore missing", "No datastore at", "code", "latest", "--datastore", "{aux}/missing");
        Row("card get --datastore missing", "No datastore at", "card", "get", "latest/Start", "--datastore", "{aux}/missing");
        Row("du --datastore an empty folder", "No datastore at", "du", "--datastore", "{aux}/emptydir");
        Row("logs --datastore an empty folder", "No datastore at", "logs", "latest/Start", "--datastore", "{aux}/emptydir");
        Row("dump --datastore under a file", "No datastore at", "dump", "InputFlow/latest/Start", "--datastore", "{aux}/afile.txt/sub");
        Row("run --datastore under a file", "is a file, not a folder", "run", "--flow", "InputFlow", "--datastore", "{aux}/afile.txt/sub");
        Row("run --datastore an unrelated non-empty folder", "not empty and is not a datastore", "run", "--flow", "InputFlow", "--datastore", "{aux}/fulldir");
        Row("dump FLOW_DATASTORE a file", "is a file", "dump", "InputFlow/latest/Start", "@env:FLOW_DATASTORE={aux}/afile.txt");

        // --run-id-file.
        Row("run --run-id-file empty", "--run-id-file", "run", "--flow", "InputFlow", "--run-id-file", "");
        Row("run --run-id-file blank", "--run-id-file", "run", "--flow", "InputFlow", "--run-id-file", " ");
        Row("run --run-id-file huge", "too long", "run", "--flow", "InputFlow", "--run-id-file", "{huge}");
        Row("run --run-id-file a folder", "is a folder", "run", "--flow", "InputFlow", "--run-id-file", "{aux}/emptydir");
        Row("run --run-id-file in a missing folder", "does not exist", "run", "--flow", "InputFlow", "--run-id-file", "{aux}/missing/id");
        Row("run --run-id-file under a file", "is a file, not a folder", "run", "--flow", "InputFlow", "--run-id-file", "{aux}/afile.txt/id");
        Row("resume --run-id-file a folder", "is a folder", "resume", "--flow", "FailingFlow", "--run-id-file", "{aux}/emptydir");

        // Included files.
        Row("run --csv blank", "--csv", "run", "--flow", "InputFlow", "--csv", " ");
        Row("run --csv huge", "too long", "run", "--flow", "InputFlow", "--csv", "{huge}");
        Row("run --csv a folder", "is a folder", "run", "--flow", "InputFlow", "--csv", "{aux}/emptydir");
        Row("run --csv missing", "missing.csv", "run", "--flow", "InputFlow", "--csv", "{aux}/missing.csv");
        Row("run --csv under a file", "is a file, not a folder", "run", "--flow", "InputFlow", "--csv", "{aux}/afile.txt/x.csv");
        Row("run --blob (IncludedFile) a folder", "is a folder", "run", "--flow", "InputFlow", "--blob", "{aux}/emptydir");
        Row("run FLOW_RUN_CSV a folder", "FLOW_RUN_CSV", "run", "--flow", "InputFlow", "@env:FLOW_RUN_CSV={aux}/emptydir");

        // The flow executable's own options, given to it directly (dotnet exec bin/.../Matrix.dll ...).
        Row("flow executable: run --datastore empty", "--datastore", "@exe", "run", "--flow", "InputFlow", "--datastore", "");
        Row("flow executable: run --datastore blank", "--datastore", "@exe", "run", "--flow", "InputFlow", "--datastore", " ");
        Row("flow executable: run --datastore huge", "too long", "@exe", "run", "--flow", "InputFlow", "--datastore", "{huge}");
        Row("flow executable: run --flow empty", "flow name", "@exe", "run", "--flow", "");
        Row("flow executable: run --max-workers NaN", "--max-workers", "@exe", "run", "--flow", "InputFlow", "--max-workers", "NaN");
        Row("flow executable: run --max-num-splits overflowing", "--max-num-splits", "@exe", "run", "--flow", "InputFlow", "--max-num-splits", Overflow);
        Row("flow executable: run --run-id-file a folder", "is a folder", "@exe", "run", "--flow", "InputFlow", "--run-id-file", "{aux}/emptydir");
        Row("flow executable: run --tag empty", "Tag ''", "@exe", "run", "--flow", "InputFlow", "--tag", "");
        Row("flow executable: run --csv a folder", "is a folder", "@exe", "run", "--flow", "InputFlow", "--csv", "{aux}/emptydir");
        Row("flow executable: run --count overflowing", "--count", "@exe", "run", "--flow", "InputFlow", "--count", Overflow);
        Row("flow executable: run option without its value", "--max-workers", "@exe", "run", "--flow", "InputFlow", "--max-workers");
        Row("flow executable: show --flow huge", "flow name", "@exe", "show", "--flow", "{huge}");
        Row("flow executable: show --format empty", "--format", "@exe", "show", "--flow", "InputFlow", "--format", "");
        Row("flow executable: resume --origin-run-id empty", "--origin-run-id", "@exe", "resume", "--flow", "FailingFlow", "--origin-run-id", "");
        Row("flow executable: resume --datastore a file", "is a file", "@exe", "resume", "--flow", "FailingFlow", "--datastore", "{aux}/afile.txt");
        Row("flow executable: step without options", "--datastore", "@exe", "step");
        Row("flow executable: step --attempt NaN", "--attempt", "@exe", "step", "--datastore", "{store}", "--flow", "InputFlow", "--run-id", "{run}", "--step", "Start", "--task-id", "1", "--attempt", "NaN");
        Row("flow executable: step --attempt negative", "--attempt", "@exe", "step", "--datastore", "{store}", "--flow", "InputFlow", "--run-id", "{run}", "--step", "Start", "--task-id", "1", "--attempt", "-1");
        Row("flow executable: step --split-index overflowing", "--split-index", "@exe", "step", "--datastore", "{store}", "--flow", "InputFlow", "--run-id", "{run}", "--step", "Start", "--task-id", "1", "--split-index", Overflow);
        Row("flow executable: unknown command", "frobnicate", "@exe", "frobnicate");

        // code --extract.
        Row("code --extract empty", "--extract", "code", "InputFlow/latest", "--extract", "");
        Row("code --extract blank", "--extract", "code", "InputFlow/latest", "--extract", " ");
        Row("code --extract huge", "too long", "code", "InputFlow/latest", "--extract", "{huge}");
        Row("code --extract a file", "is a file", "code", "InputFlow/latest", "--extract", "{aux}/afile.txt");
        Row("code --extract a non-empty folder", "not empty", "code", "InputFlow/latest", "--extract", "{aux}/fulldir");
        Row("code --extract the root folder", "not empty", "code", "InputFlow/latest", "--extract", "/");
        Row("code --extract under a file", "is a file, not a folder", "code", "InputFlow/latest", "--extract", "{aux}/afile.txt/sub");
        return rows;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Input_IsRefused_WithOneLine_Exit2_AndNothingWritten(string name, string[] args, string mention)
    {
        var lab = MatrixProject.Get(product);

        var (result, changes) = Observe(lab, [], () => Tool(lab, args));

        ShouldBeOneErrorLine(name, result, ExitCodes.Usage, Expand(lab, mention));
        changes.ShouldBeEmpty($"{name}: a refused input must write nothing\n{result}");
    }

    // ---- permissions: unreadable paths and read-only datastores, as a user chmod applies to ------------------

    public static TheoryData<string, string, string[], int, string> Permissions()
    {
        var rows = new TheoryData<string, string, string[], int, string>();
        void Row(string name, string condition, int exit, string mention, params string[] args) => rows.Add(name, condition, args, exit, mention);

        Row("run --csv unreadable file", "unreadable-file", 2, "unreadable.csv", "run", "--flow", "InputFlow", "--csv", "{aux}/unreadable.csv");
        Row("run --blob unreadable file", "unreadable-file", 2, "unreadable.csv", "run", "--flow", "InputFlow", "--blob", "{aux}/unreadable.csv");
        Row("run --project unreadable folder", "unreadable-dir", 2, "may not read", "run", "--project", "{aux}/unreadable-dir");
        Row("dump --project unreadable folder", "unreadable-dir", 2, "may not read", "dump", "latest/Start", "--project", "{aux}/unreadable-dir");
        Row("show --project unreadable folder", "unreadable-dir", 2, "may not read", "show", "--project", "{aux}/unreadable-dir");
        Row("code --extract unreadable folder", "unreadable-dir", 2, "may not read", "code", "InputFlow/latest", "--extract", "{aux}/unreadable-dir");
        Row("code --extract under a read-only folder", "readonly-dir", 2, "Cannot write into", "code", "InputFlow/latest", "--extract", "{aux}/readonly-dir/sub");
        Row("run --run-id-file in a read-only folder", "readonly-dir", 2, "may not write", "run", "--flow", "InputFlow", "--run-id-file", "{aux}/readonly-dir/id");
        Row("run --datastore in a read-only folder", "readonly-dir", 2, "Cannot create the datastore", "run", "--flow", "InputFlow", "--datastore", "{aux}/readonly-dir/new");

        // A read-only datastore: what would write is refused, before anything is announced.
        Row("run, read-only datastore", "readonly-store", 1, "read-only", "run", "--flow", "InputFlow", "--datastore", "{store}");
        Row("resume, read-only datastore", "readonly-store", 1, "read-only", "resume", "--flow", "FailingFlow", "--datastore", "{store}");
        Row("tag add, read-only datastore", "readonly-store", 1, "read-only", "tag", "add", "InputFlow/latest", "new", "--datastore", "{store}");
        Row("tag remove, read-only datastore", "readonly-store", 1, "read-only", "tag", "remove", "InputFlow/{run}", "keep", "--datastore", "{store}");
        Row("tag replace, read-only datastore", "readonly-store", 1, "read-only", "tag", "replace", "InputFlow/{run}", "keep", "kept", "--datastore", "{store}");
        Row("gc, read-only datastore", "readonly-store", 1, "read-only", "gc", "--keep-last", "0", "--datastore", "{store}");

        // Unreadable parts of a datastore: one line with the path, exit 1 (the datastore cannot be used as it is).
        foreach (var args in new[] { new[] { "dump", "InputFlow/latest/Start" }, ["verify"], ["run", "--flow", "InputFlow"] })
        {
            Row($"{args[0]}, unreadable format.json", "unreadable:format.json", 1, "format.json", [.. args, "--datastore", "{store}"]);
            Row($"{args[0]}, unreadable datastore folder", "unreadable:.", 1, "not readable", [.. args, "--datastore", "{store}"]);
        }
        foreach (var args in new[] { new[] { "verify" }, ["du"], ["dump", "InputFlow/latest/Start"], ["tag", "list", "InputFlow/latest"] })
        {
            Row($"{args[0]}, unreadable flow folder", "unreadable:runs/InputFlow", 1, "runs/InputFlow", [.. args, "--datastore", "{store}"]);
        }
        foreach (var args in new[] { new[] { "verify" }, ["du"], ["dump", "InputFlow/latest/Start"], ["code", "InputFlow/latest"] })
        {
            Row($"{args[0]}, unreadable blobs folder", "unreadable:blobs", 1, "/blobs/", [.. args, "--datastore", "{store}"]);
        }
        Row("verify, unreadable done.json", "unreadable:runs/InputFlow/{run}/steps/Start/1/0/done.json", 1, "done.json", "verify", "--datastore", "{store}");
        Row("dump, unreadable done.json", "unreadable:runs/InputFlow/{run}/steps/Start/1/0/done.json", 1, "done.json", "dump", "InputFlow/{run}/Start", "--datastore", "{store}");
        Row("logs, unreadable stdout.log", "unreadable:runs/InputFlow/{run}/steps/End/2/0/stdout.log", 1, "stdout.log", "logs", "InputFlow/{run}/End", "--datastore", "{store}");
        Row("dump, unreadable run index", "unreadable:runs/InputFlow/index.jsonl", 1, "index.jsonl", "dump", "InputFlow/latest/Start", "--datastore", "{store}");
        return rows;
    }

    [Theory]
    [MemberData(nameof(Permissions))]
    public void Permission_IsOneLine_WithTheRightExitCode_AndNothingWritten(string name, string condition, string[] args, int exit, string mention)
    {
        var lab = MatrixProject.Get(product);
        if (lab.Unprivileged is null)
        {
            output.WriteLine($"Not checked: {lab.UnprivilegedWhy}");
            return;
        }
        using var scratch = new Scratch(lab, condition);

        var (result, changes) = Observe(lab, scratch.Roots, () => Tool(lab, args, unprivileged: true, store: scratch.Store));

        ShouldBeOneErrorLine(name, result, exit, Expand(lab, mention));
        changes.ShouldBeEmpty($"{name}: nothing may change\n{result}");
    }

    // ---- damaged datastores: exit code 1 (a newer format: 2), one line, nothing written ------------------------

    public static TheoryData<string, string, string[], int, string> Damaged()
    {
        var rows = new TheoryData<string, string, string[], int, string>();
        void Row(string name, string damage, int exit, string mention, params string[] args) => rows.Add(name, damage, [.. args, "--datastore", "{store}"], exit, mention);

        foreach (var args in new[]
        {
            new[] { "dump", "InputFlow/latest/Start" }, ["logs", "InputFlow/latest/End"], ["verify"], ["du"], ["gc", "--keep-last", "0"], ["tag", "list", "InputFlow/latest"],
            ["tag", "add", "InputFlow/latest", "x"], ["code", "InputFlow/latest"], ["run", "--flow", "InputFlow"], ["resume", "--flow", "FailingFlow"],
        })
        {
            Row($"{string.Join(' ', args.Take(2))}, format.json missing", "no-format", 1, "format.json", args);
        }
        Row("verify, format version 0", "format:{\"format\":0}", 1, "format version 0", "verify");
        Row("run, format version 0", "format:{\"format\":0}", 1, "format version 0", "run", "--flow", "InputFlow");
        Row("dump, format version -1", "format:{\"format\":-1}", 1, "format version -1", "dump", "InputFlow/latest/Start");
        Row("gc, format version -1", "format:{\"format\":-1}", 1, "format version -1", "gc", "--keep-last", "0");
        Row("du, format.json not JSON", "format:garbage", 1, "format.json", "du");
        Row("tag add, format.json not JSON", "format:garbage", 1, "format.json", "tag", "add", "InputFlow/latest", "x");
        Row("verify, format version overflowing", "format:{\"format\":" + Overflow + "}", 1, "format.json", "verify");
        Row("verify, format version as a string", "format:{\"format\":\"1\"}", 1, "format.json", "verify");
        Row("verify, format version 99 (newer)", "format:{\"format\":99}", 2, "format version 99", "verify");
        Row("run, format version 99 (newer)", "format:{\"format\":99}", 2, "format version 99", "run", "--flow", "InputFlow");
        Row("verify, run.json missing", "no-run-json", 1, "problem", "verify");
        Row("dump, run.json missing", "no-run-json", 1, "run.json", "dump", "InputFlow/{run}/Start");
        Row("tag list, run.json missing", "no-run-json", 1, "run.json", "tag", "list", "InputFlow/{run}");
        Row("code, run.json missing", "no-run-json", 1, "run.json", "code", "InputFlow/{run}");
        Row("resume --plan, run.json missing", "no-run-json", 1, "run.json", "resume", "--flow", "InputFlow", "--origin-run-id", "{run}", "--plan");
        Row("verify, torn done.json", "torn-done", 1, "problem", "verify");
        Row("gc --dry-run, torn done.json", "torn-done", 1, "no blob was collected", "gc", "--keep-last", "0", "--dry-run");
        return rows;
    }

    [Theory]
    [MemberData(nameof(Damaged))]
    public void DamagedDatastore_IsOneLine_WithTheRightExitCode_AndNothingWritten(string name, string damage, string[] args, int exit, string mention)
    {
        var lab = MatrixProject.Get(product);
        using var scratch = new Scratch(lab, damage);

        var (result, changes) = Observe(lab, scratch.Roots, () => Tool(lab, args, store: scratch.Store));

        // A damaged record is also reported as a warning line (what it is, what to do); there is one error line.
        ShouldBeOneErrorLine(name, result, exit, Expand(lab, mention), warningsAllowed: true);
        changes.ShouldBeEmpty($"{name}: nothing may change\n{result}");
    }

    // ---- read-only commands change no byte ----------------------------------------------------------------------

    public static TheoryData<string, string[], bool> ReadOnlyCommands()
    {
        var rows = new TheoryData<string, string[], bool>();
        foreach (var readOnlyStore in new[] { false, true })
        {
            var store = readOnlyStore ? new[] { "--datastore", "{store}" } : [];
            var where = readOnlyStore ? ", read-only datastore" : "";
            rows.Add("dump" + where, ["dump", "InputFlow/latest/Start", .. store], readOnlyStore);
            rows.Add("dump --json" + where, ["dump", "InputFlow/latest/Start", "--json", .. store], readOnlyStore);
            rows.Add("logs --timestamps" + where, ["logs", "InputFlow/latest/End", "--timestamps", .. store], readOnlyStore);
            rows.Add("verify" + where, ["verify", .. store], readOnlyStore);
            rows.Add("verify --repair, nothing damaged" + where, ["verify", "--repair", .. store], readOnlyStore);
            rows.Add("du --runs" + where, ["du", "--runs", .. store], readOnlyStore);
            rows.Add("gc --dry-run" + where, ["gc", "--keep-last", "0", "--dry-run", .. store], readOnlyStore);
            rows.Add("tag list" + where, ["tag", "list", "InputFlow/latest", .. store], readOnlyStore);
            rows.Add("code" + where, ["code", "InputFlow/latest", .. store], readOnlyStore);
            rows.Add("resume --plan" + where, ["resume", "--flow", "FailingFlow", "--plan", .. store], readOnlyStore);
            rows.Add("run --help" + where, ["run", "--flow", "InputFlow", "--help", .. store], readOnlyStore);
            rows.Add("resume --help" + where, ["resume", "--help", .. store], readOnlyStore);
            rows.Add("show --format mermaid" + where, ["show", "--flow", "InputFlow", "--format", "mermaid", .. store], readOnlyStore);
            rows.Add("flow executable: resume --help" + where, ["@exe", "resume", "--help", .. store], readOnlyStore);
            rows.Add("flow executable: resume --plan" + where, ["@exe", "resume", "--flow", "FailingFlow", "--plan", .. store], readOnlyStore);
        }
        // An attempt that is done is not run again, whatever its number (0 included): its outcome is returned.
        rows.Add("flow executable: step of a finished attempt 0", ["@exe", "step", "--datastore", "{store}", "--flow", "InputFlow", "--run-id", "{run}", "--step", "Start", "--task-id", "1", "--attempt", "0"], false);
        return rows;
    }

    [Theory]
    [MemberData(nameof(ReadOnlyCommands))]
    public void ReadOnlyCommand_Succeeds_AndChangesNoByte(string name, string[] args, bool readOnlyStore)
    {
        var lab = MatrixProject.Get(product);
        if (readOnlyStore && lab.Unprivileged is null)
        {
            output.WriteLine($"Not checked: {lab.UnprivilegedWhy}");
            return;
        }
        using var scratch = readOnlyStore ? new Scratch(lab, "readonly-store") : null;

        var (result, changes) = Observe(lab, scratch?.Roots ?? [], () => Tool(lab, args, unprivileged: readOnlyStore, store: scratch?.Store));

        result.ExitCode.ShouldBe(0, $"{name}\n{result}");
        result.Stderr.ShouldBeEmpty($"{name}\n{result}");
        changes.ShouldBeEmpty($"{name}: a read-only command changed the datastore\n{result}");
    }

    // ---- files that never end ---------------------------------------------------------------------------------

    public static TheoryData<string, string[], string> EndlessFiles() => new()
    {
        { "--csv /dev/zero", ["run", "--flow", "InputFlow", "--csv", "/dev/zero"], "character device" },
        { "--csv /dev/urandom", ["run", "--flow", "InputFlow", "--csv", "/dev/urandom"], "character device" },
        { "--csv a named pipe", ["run", "--flow", "InputFlow", "--csv", "{special}/pipe"], "named pipe" },
        { "--blob (IncludedFile) /dev/zero", ["run", "--flow", "InputFlow", "--blob", "/dev/zero"], "--blob" },
        { "--blob (IncludedFile) a named pipe", ["run", "--flow", "InputFlow", "--blob", "{special}/pipe"], "named pipe" },
        { "FLOW_RUN_CSV /dev/urandom", ["run", "--flow", "InputFlow", "@env:FLOW_RUN_CSV=/dev/urandom"], "FLOW_RUN_CSV" },
    };

    [Theory]
    [MemberData(nameof(EndlessFiles))]
    public void IncludedFile_ThatNeverEnds_IsRefusedBeforeItIsOpened(string name, string[] args, string mention)
    {
        var lab = MatrixProject.Get(product);

        // Read forever (or, for a pipe, blocked in open) before the fix: the time limit turns that into a failure.
        var (result, changes) = Observe(lab, [], () => Tool(lab, args, timeout: TimeSpan.FromSeconds(90)));

        ShouldBeOneErrorLine(name, result, ExitCodes.Usage, Expand(lab, mention));
        result.Stderr.ShouldContain("not a regular file", Case.Sensitive, result.ToString());
        changes.ShouldBeEmpty($"{name}: a refused input must write nothing\n{result}");
    }

    [Fact]
    public void IncludedFileFromFile_InAStep_RefusesADeviceAndAPipe_InsteadOfReadingForever()
    {
        var lab = MatrixProject.Get(product);

        foreach (var source in new[] { "/dev/zero", Path.Combine(lab.Special, "pipe") })
        {
            var run = Tool(lab, ["run", "--flow", "KeepFileFlow", "--source", source], timeout: TimeSpan.FromSeconds(90));

            run.ExitCode.ShouldBe(ExitCodes.Failure, run.ToString());
            run.Stderr.ShouldContain("IncludedFile.FromFile", Case.Sensitive, run.ToString());
            run.Stderr.ShouldContain("not a regular file", Case.Sensitive, run.ToString());
        }
    }

    // ---- several writers at once --------------------------------------------------------------------------------

    [Fact]
    public async Task TagAdd_FourAtOnceOnOneRun_StoresEveryTag()
    {
        var lab = MatrixProject.Get(product);
        var run = Tool(lab, ["run", "--flow", "InputFlow", "--tag", "concurrency"]);
        run.ExitCode.ShouldBe(0, run.ToString());
        var id = Regex.Match(run.Stdout, @"Run (\d+) of InputFlow started").Groups[1].Value;

        var adds = Enumerable.Range(0, 4)
            .Select(writer => Task.Run(() => Tool(lab, ["tag", "add", $"InputFlow/{id}", .. Enumerable.Range(0, 6).Select(tag => $"w{writer}-t{tag}")])))
            .ToArray();
        foreach (var add in await Task.WhenAll(adds))
        {
            add.ExitCode.ShouldBe(0, add.ToString());
        }
        var list = Tool(lab, ["tag", "list", $"InputFlow/{id}"]);
        var tags = Regex.Match(list.Stdout, @"  tags:\s+(.*)").Groups[1].Value.Split(", ");
        var expected = Enumerable.Range(0, 4).SelectMany(w => Enumerable.Range(0, 6).Select(t => $"w{w}-t{t}")).Append("concurrency");
        string.Join(", ", tags.Order(StringComparer.Ordinal)).ShouldBe(string.Join(", ", expected.Order(StringComparer.Ordinal)), list.ToString());
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /// <summary>
    /// The answer to bad input: the exit code, exactly one stderr line that starts with <c>error: </c> and names the
    /// input, nothing on stdout (for a damaged datastore, <c>warning: </c> lines about damaged records and verify's
    /// report of what it found are allowed too), and nothing of the tool's insides: no stack frame, no exception type
    /// name, on either stream.
    /// </summary>
    private static void ShouldBeOneErrorLine(string name, ProcessResult result, int exitCode, string mention, bool warningsAllowed = false)
    {
        var context = $"{name}\n{result}";
        result.ExitCode.ShouldBe(exitCode, context);
        if (!warningsAllowed)
        {
            // Refused before anything was done: nothing announced (gc once printed "Removing run" for runs it then could not remove).
            result.Stdout.ShouldBeEmpty(context);
        }
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var errors = lines.Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        errors.Count.ShouldBe(1, context);
        if (warningsAllowed)
        {
            lines.Where(l => !l.StartsWith("error: ", StringComparison.Ordinal)).ShouldAllBe(l => l.StartsWith("warning: "), context);
        }
        else
        {
            lines.Length.ShouldBe(1, context);
        }
        errors[0].ShouldContain(mention, Case.Insensitive, context);
        errors[0].Length.ShouldBeLessThan(1_000, context);
        foreach (var text in new[] { result.Stdout, result.Stderr })
        {
            text.Split('\n').ShouldNotContain(l => l.StartsWith("   at ", StringComparison.Ordinal), context);
            Regex.IsMatch(text, @"\b\w*Exception\b").ShouldBeFalse(context);
        }
    }

    private static string Expand(MatrixProject lab, string text, string? store = null) => text
        .Replace("{huge}", s_huge, StringComparison.Ordinal)
        .Replace("{digits}", s_hugeDigits, StringComparison.Ordinal)
        .Replace("{aux}", lab.Aux, StringComparison.Ordinal)
        .Replace("{special}", lab.Special, StringComparison.Ordinal)
        .Replace("{run}", lab.RunId, StringComparison.Ordinal)
        .Replace("{store}", store ?? lab.Store, StringComparison.Ordinal);

    /// <summary>Runs the tool in the project; <c>@env:NAME=VALUE</c> items set the environment instead of arguments.</summary>
    private ProcessResult Tool(MatrixProject lab, string[] args, bool unprivileged = false, string? store = null, TimeSpan? timeout = null)
    {
        var environment = new Dictionary<string, string?>(product.Environment);
        var arguments = new List<string>();
        foreach (var arg in args.Select(a => Expand(lab, a, store)))
        {
            if (arg.StartsWith("@env:", StringComparison.Ordinal))
            {
                var (key, value) = (arg[5..arg.IndexOf('=', StringComparison.Ordinal)], arg[(arg.IndexOf('=', StringComparison.Ordinal) + 1)..]);
                environment[key] = value;
            }
            else
            {
                arguments.Add(arg);
            }
        }
        // "@exe" runs the flow project's own executable (what 'dotnet flow run' hands over to) instead of the tool.
        List<string> command = arguments is ["@exe", .. var exeArgs] ? [ProcessRunner.Dotnet, "exec", lab.Assembly, .. exeArgs] : [product.ToolExecutable, .. arguments];
        var (file, all) = unprivileged && lab.Unprivileged is [var first, .. var rest]
            ? (first, [.. rest, .. command])
            : (command[0], command[1..]);
        return ProcessRunner.Run(file, all, lab.Dir, environment, timeout ?? TimeSpan.FromMinutes(3));
    }

    /// <summary>
    /// Runs <paramref name="act"/> and returns its result and every change under the project's datastore, the helper
    /// folders and <paramref name="extra"/>. A row that changed something gets its failure, and the project is put
    /// back as it was, so that the rows after it are not answered from a datastore or project it damaged.
    /// </summary>
    private static (ProcessResult Result, List<string> Changes) Observe(MatrixProject lab, IReadOnlyList<string> extra, Func<ProcessResult> act)
    {
        string[] roots = [lab.Store, lab.Aux, .. extra];
        var before = TreeSnapshot.Take(roots, lab.Dir);
        ProcessResult result;
        try
        {
            result = act();
        }
        catch (TimeoutException)
        {
            // The tool hung (reading a file that never ends, say) and was killed: whatever it left goes too.
            lab.Restore();
            throw;
        }
        var changes = TreeSnapshot.Changes(before, TreeSnapshot.Take(roots, lab.Dir));
        if (changes.Count > 0)
        {
            lab.Restore();
        }
        return (result, changes);
    }

    /// <summary>
    /// A condition a row needs, set up before it runs and undone after: a copy of the project's datastore (to damage,
    /// or to make read-only), or a mode on one of the helper paths.
    /// </summary>
    private sealed class Scratch : IDisposable
    {
        private readonly List<(string Path, UnixFileMode Mode)> _modes = [];
        private readonly string? _copy;

        public Scratch(MatrixProject lab, string condition)
        {
            switch (condition)
            {
                case "unreadable-file":
                    Chmod(Path.Combine(lab.Aux, "unreadable.csv"), UnixFileMode.None);
                    return;
                case "unreadable-dir":
                    Chmod(Path.Combine(lab.Aux, "unreadable-dir"), UnixFileMode.None);
                    return;
                case "readonly-dir":
                    Chmod(Path.Combine(lab.Aux, "readonly-dir"), UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                    return;
            }
            _copy = Path.Combine(lab.Scratch, Guid.NewGuid().ToString("N")[..8]);
            Store = Path.Combine(_copy, ".flow");
            MatrixProject.CopyTree(lab.Store, Store);
            var run = Path.Combine(Store, "runs", "InputFlow", lab.RunId);
            switch (condition)
            {
                case "readonly-store":
                    foreach (var path in Directory.EnumerateFileSystemEntries(Store, "*", SearchOption.AllDirectories).Prepend(Store))
                    {
                        var isDir = Directory.Exists(path);
                        Chmod(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead
                            | (isDir ? UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : UnixFileMode.None));
                    }
                    break;
                case var unreadable when unreadable.StartsWith("unreadable:", StringComparison.Ordinal):
                    Chmod(Path.GetFullPath(Path.Combine(Store, unreadable["unreadable:".Length..].Replace("{run}", lab.RunId, StringComparison.Ordinal))), UnixFileMode.None);
                    break;
                case "no-format":
                    File.Delete(Path.Combine(Store, "format.json"));
                    break;
                case var format when format.StartsWith("format:", StringComparison.Ordinal):
                    File.WriteAllText(Path.Combine(Store, "format.json"), format["format:".Length..]);
                    break;
                case "no-run-json":
                    File.Delete(Path.Combine(run, "run.json"));
                    break;
                case "torn-done":
                    File.WriteAllText(Directory.GetFiles(Path.Combine(run, "steps", "Start"), "done.json", SearchOption.AllDirectories).Single(), "{\"status\":\"succ");
                    break;
                default:
                    throw new ArgumentException("Unknown condition " + condition, nameof(condition));
            }
        }

        /// <summary>Gets the copy of the datastore, or null.</summary>
        public string? Store { get; }

        public IReadOnlyList<string> Roots => Store is null ? [] : [Store];

        public void Dispose()
        {
            foreach (var (path, mode) in Enumerable.Reverse(_modes).Where(m => Path.Exists(m.Path)))
            {
                File.SetUnixFileMode(path, mode);
            }
            if (_copy is not null)
            {
                MatrixProject.Writable(_copy);
                Directory.Delete(_copy, recursive: true);
            }
        }

        private void Chmod(string path, UnixFileMode mode)
        {
            _modes.Add((path, File.GetUnixFileMode(path)));
            File.SetUnixFileMode(path, mode);
        }

    }
}

/// <summary>
/// Every file under some folders, by path: its size, modification time and SHA-256 (or that it could not be read),
/// and every folder; plus the names at the top of the project folder (a file dropped there by mistake shows up).
/// </summary>
internal static class TreeSnapshot
{
    public static SortedDictionary<string, string> Take(IEnumerable<string> roots, string projectDir)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            if (!Directory.Exists(root))
            {
                entries[root] = "(missing)";
                continue;
            }
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
            foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", options).Prepend(root))
            {
                entries[path] = Directory.Exists(path) ? "folder" : Describe(path);
            }
        }
        foreach (var name in Directory.EnumerateFileSystemEntries(projectDir).Select(Path.GetFileName).Where(n => n is not ("bin" or "obj" or ".flow")))
        {
            entries[Path.Combine(projectDir, name!)] = "(in the project)";
        }
        return entries;
    }

    public static List<string> Changes(SortedDictionary<string, string> before, SortedDictionary<string, string> after) =>
    [
        .. before.Where(e => !after.ContainsKey(e.Key)).Select(e => "removed " + e.Key),
        .. after.Where(e => !before.ContainsKey(e.Key)).Select(e => "added " + e.Key),
        .. after.Where(e => before.TryGetValue(e.Key, out var was) && was != e.Value).Select(e => $"changed {e.Key}: {before[e.Key]} -> {e.Value}"),
    ];

    private static string Describe(string file)
    {
        var info = new FileInfo(file);
        var stamp = $"{info.Length} bytes, modified {info.LastWriteTimeUtc.Ticks}";
        try
        {
            return $"{stamp}, sha256 {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))}";
        }
        catch (UnauthorizedAccessException)
        {
            return $"{stamp}, unreadable";
        }
    }
}

/// <summary>
/// The project the matrix runs in, made once from the template with flows that take every kind of input: a run of
/// InputFlow (tagged "keep") and a failed run of FailingFlow in its datastore, and beside it helper paths (a file,
/// an empty and a non-empty folder, a file and folders whose modes the rows change, a named pipe).
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed class MatrixProject
{
    private static readonly Lock s_gate = new();
    private static MatrixProject? s_project;

    public const string Flows = """
        using Flow.Sdk;

        namespace Matrix;

        /// <summary>Parameters of every kind the bad-input matrix gives wrong values.</summary>
        public partial class InputFlow : FlowSpec
        {
            [Parameter] public int Count { get; init; } = 3;

            [Parameter] public double Ratio { get; init; } = 0.5;

            [Parameter] public string Word { get; init; } = "hi";

            [IncludeFile("csv")] public string Csv { get; init; } = "";

            [IncludeFile("blob")] public IncludedFile? Blob { get; init; }

            public partial int Seen { get; set; }

            [Step] public void Start() { Seen = Count + Csv.Length; Next(End); }

            [Step] public void End() => Console.WriteLine($"seen {Seen}");
        }

        /// <summary>Fails in its second step, so resume has something to do.</summary>
        public partial class FailingFlow : FlowSpec
        {
            public partial int Before { get; set; }

            [Step] public void Start() { Before = 1; Next(Explode); }

            [Step] public void Explode() { Boom.Throw(); Next(End); }

            [Step] public void End() { }
        }

        /// <summary>Keeps a file named by a parameter as an IncludedFile artifact.</summary>
        public partial class KeepFileFlow : FlowSpec
        {
            [Parameter] public string Source { get; init; } = "";

            public partial IncludedFile Kept { get; set; }

            [Step] public void Start() { Kept = IncludedFile.FromFile(Source); Next(End); }

            [Step] public void End() { }
        }

        internal static class Boom
        {
            public static void Throw() => throw new InvalidOperationException("boom from user code");
        }
        """;

    private string[] _projectEntries = [];

    private MatrixProject(string dir, string root)
    {
        Dir = dir;
        Store = Path.Combine(dir, ".flow");
        Aux = Path.Combine(root, "matrix-aux-" + Guid.NewGuid().ToString("N")[..6]);
        Special = Aux + "-special";
        Scratch = Aux + "-scratch";
        Golden = Path.Combine(Scratch, "golden", ".flow");
    }

    /// <summary>Gets a copy of the datastore as set-up left it, to put it back after a row changed it.</summary>
    public string Golden { get; }

    public string Dir { get; }

    public string Store { get; }

    /// <summary>Gets the helper paths, hashed with the datastore by every row.</summary>
    public string Aux { get; }

    /// <summary>Gets the folder of the named pipe (never hashed: reading a pipe blocks).</summary>
    public string Special { get; }

    /// <summary>Gets where rows copy the datastore to damage it or make it read-only.</summary>
    public string Scratch { get; }

    public string RunId { get; private set; } = "";

    /// <summary>Gets the flow project's own executable (the build record's assembly).</summary>
    public string Assembly { get; private set; } = "";

    /// <summary>Gets the command prefix that runs the tool as a user chmod applies to ([] for this user), or null.</summary>
    public string[]? Unprivileged { get; private set; }

    public string UnprivilegedWhy { get; private set; } = "";

    public static MatrixProject Get(PackedProduct product)
    {
        lock (s_gate)
        {
            return s_project ??= Create(product);
        }
    }

    private static MatrixProject Create(PackedProduct product)
    {
        var lab = new MatrixProject(product.NewProject("Matrix"), product.Root);
        File.WriteAllText(Path.Combine(lab.Dir, "MatrixFlows.cs"), Flows);
        PackedProduct.Must(product.Flow(lab.Dir, "show", "--flow", "InputFlow"));
        using (var record = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(lab.Dir, "obj", "flow", "build.json"))))
        {
            lab.Assembly = record.RootElement.GetProperty("assemblyPath").GetString()!;
        }
        var run = PackedProduct.Must(product.Flow(lab.Dir, "run", "--flow", "InputFlow", "--tag", "keep"));
        lab.RunId = Regex.Match(run.Stdout, @"Run (\d+) of InputFlow started").Groups[1].Value;
        product.Flow(lab.Dir, "run", "--flow", "FailingFlow").ExitCode.ShouldBe(1);
        // Every run is in its flow's index from here on, so no read appends to it.
        PackedProduct.Must(product.Flow(lab.Dir, "tag", "list", "InputFlow/latest"));
        PackedProduct.Must(product.Flow(lab.Dir, "tag", "list", "FailingFlow/latest"));

        Directory.CreateDirectory(lab.Special);
        Directory.CreateDirectory(lab.Scratch);
        lab.CreateAux();
        PackedProduct.Must(ProcessRunner.Run("mkfifo", [Path.Combine(lab.Special, "pipe")], lab.Special));
        CopyTree(lab.Store, lab.Golden);
        lab._projectEntries = [.. Directory.EnumerateFileSystemEntries(lab.Dir)];
        (lab.Unprivileged, lab.UnprivilegedWhy) = FindUnprivileged(product, lab);
        return lab;
    }

    /// <summary>
    /// Puts the project back after a row changed it (a failure of that row): the datastore as it was after set-up,
    /// no entry in the project folder that set-up did not make, and fresh helper paths.
    /// </summary>
    public void Restore()
    {
        Directory.Delete(Store, recursive: true);
        CopyTree(Golden, Store);
        foreach (var entry in Directory.EnumerateFileSystemEntries(Dir).Except(_projectEntries))
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
        Writable(Aux);
        Directory.Delete(Aux, recursive: true);
        CreateAux();
    }

    /// <summary>Gives this user back every permission on a tree a row changed the modes of, so it can be removed.</summary>
    public static void Writable(string path)
    {
        if (Directory.Exists(path))
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
            foreach (var entry in Directory.EnumerateFileSystemEntries(path))
            {
                Writable(entry);
            }
        }
        else if (File.Exists(path))
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);
        }
    }

    public static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    private void CreateAux()
    {
        Directory.CreateDirectory(Aux);
        File.WriteAllText(Path.Combine(Aux, "afile.txt"), "a file, where a folder is expected\n");
        File.WriteAllText(Path.Combine(Aux, "unreadable.csv"), "a,b\n1,2\n");
        Directory.CreateDirectory(Path.Combine(Aux, "emptydir"));
        Directory.CreateDirectory(Path.Combine(Aux, "unreadable-dir"));
        Directory.CreateDirectory(Path.Combine(Aux, "readonly-dir"));
        Directory.CreateDirectory(Path.Combine(Aux, "fulldir"));
        File.WriteAllText(Path.Combine(Aux, "fulldir", "keep.txt"), "not a datastore\n");
    }

    /// <summary>
    /// How to run the tool as a user file modes apply to: this user when it is not root; under root, setpriv to
    /// nobody (65534), checked by reading the datastore that way (the tool, the dotnet host, the project and the
    /// datastore must be readable by that user).
    /// </summary>
    private static (string[]? Prefix, string Why) FindUnprivileged(PackedProduct product, MatrixProject lab)
    {
        var uid = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2);
        if (uid != "0")
        {
            return ([], $"running as uid {uid}: file modes apply");
        }
        string[] prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
        try
        {
            var probe = ProcessRunner.Run(prefix[0], [.. prefix[1..], product.ToolExecutable, "tag", "list", "InputFlow/latest"], lab.Dir, product.Environment, TimeSpan.FromMinutes(2));
            return probe.ExitCode == 0
                ? (prefix, "root: the tool runs as nobody through setpriv")
                : (null, $"running as root, and the tool cannot run as nobody through setpriv here (so chmod cannot be tested): {probe}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"running as root without setpriv ({e.Message}), so chmod cannot be tested");
        }
    }
}
