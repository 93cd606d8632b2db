using System.Text.Json;
using Flow.Sdk;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Flow.Cli.Ui;

/// <summary>
/// The UI's JSON API (docs/ui.md, "API"). Every path part is parsed as a pathspec part (a plain name), so no request
/// reads outside the datastore; every read goes through the client API.
/// </summary>
internal sealed class UiApi(FlowStore store)
{
    /// <summary>The most characters of an artifact's JSON one request returns.</summary>
    public const int MaxArtifactPage = 256 * 1024;

    /// <summary>The most runs one comparison shows side by side.</summary>
    public const int MaxCompared = 8;

    /// <summary>The largest stored value the UI turns into JSON to show; a larger one is described, not loaded.</summary>
    public const long MaxArtifactBytes = 32L << 20;

    /// <summary>The most characters of a source file the code view shows.</summary>
    public const int MaxSourceChars = 1 << 20;

    /// <summary>The most log lines one request returns.</summary>
    public const int MaxLogLines = 5000;

    private static readonly JsonWriterOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default };

    public void Map(WebApplication app)
    {
        app.MapGet("/api/flows", () => Json(w =>
        {
            w.WriteStartArray();
            foreach (var flow in store.Flows())
            {
                // One read of the flow's run index for both the count and the newest run.
                var runs = flow.RunsIn(null).ToList();
                var latest = runs.FirstOrDefault();
                w.WriteStartObject();
                w.WriteString("name", flow.Name);
                w.WriteNumber("runs", runs.Count);
                if (latest is not null)
                {
                    w.WritePropertyName("latest");
                    RunHeader(w, latest);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }));
        app.MapGet("/api/flows/{flow}/runs", (string flow, string? status, string? tag, string? q, int? from, int? count) => Guard(() =>
        {
            var info = store.GetFlow(Parse(() => Pathspec.ParseRun(flow + "/latest", null)).Flow!);
            var runs = info.RunsIn(string.IsNullOrEmpty(tag) ? null : tag);
            if (!string.IsNullOrEmpty(status))
            {
                runs = runs.Where(r => string.Equals(r.Status, status, StringComparison.OrdinalIgnoreCase));
            }
            if (!string.IsNullOrEmpty(q))
            {
                runs = runs.Where(r => Matches(r, q));
            }
            var all = runs.ToList();
            var skip = Math.Max(0, from ?? 0);
            var take = Math.Clamp(count ?? 50, 1, 500);
            return Json(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("total", all.Count);
                w.WriteNumber("from", skip);
                w.WriteStartArray("runs");
                foreach (var run in all.Skip(skip).Take(take))
                {
                    w.WriteStartObject();
                    RunFields(w, run);
                    Parameters(w, run, 60);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }));
        app.MapGet("/api/runs/{flow}/{run}", (string flow, string run) => Guard(() =>
        {
            var info = GetRun(flow, run);
            return Json(w => RunDetail(w, info));
        }));
        app.MapGet("/api/runs/{flow}/{run}/events", (string flow, string run, HttpContext context) => GuardAsync(async () =>
        {
            var info = GetRun(flow, run);
            await RunEvents.StreamAsync(context, info, w => RunDetail(w, info), context.RequestAborted);
            return Results.Empty;
        }));
        app.MapGet("/api/compare/{flow}", (string flow, string? runs) => Guard(() =>
        {
            var ids = (runs ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ids.Length is < 2 or > MaxCompared)
            {
                throw new BadPathException($"Compare takes 2 to {MaxCompared} runs: ?runs=ID,ID,...");
            }
            var infos = ids.Select(id => GetRun(flow, id)).ToList();
            return Json(w => RunComparison.Write(w, infos));
        }));
        app.MapGet("/api/tasks/{flow}/{run}/{step}/{task}", (string flow, string run, string step, string task) => Guard(() =>
        {
            var info = GetTask(flow, run, step, task);
            return Json(w => TaskDetail(w, info));
        }));
        app.MapGet("/api/tasks/{flow}/{run}/{step}/{task}/artifacts/{name}", (string flow, string run, string step, string task, string name, long? offset, int? count) => Guard(() =>
        {
            var info = GetTask(flow, run, step, task);
            var artifact = info.Artifacts.FirstOrDefault(a => a.Name == name)
                ?? throw new FlowException($"Task {info.Pathspec} has no artifact '{name}'.");
            if (artifact.Size > MaxArtifactBytes)
            {
                // Never turned into JSON here: the UI process would hold the whole value for one request.
                return Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("name", artifact.Name);
                    w.WriteString("type", artifact.Type);
                    w.WriteNumber("size", artifact.Size);
                    w.WriteBoolean("tooLarge", true);
                    w.WriteNumber("length", 0);
                    w.WriteNumber("offset", 0);
                    w.WriteString("text", "");
                    w.WriteEndObject();
                });
            }
            var text = artifact.ToJson();
            var start = (int)Math.Clamp(offset ?? 0, 0, text.Length);
            var length = Math.Min(Math.Clamp(count ?? 64 * 1024, 1, MaxArtifactPage), text.Length - start);
            return Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("name", artifact.Name);
                w.WriteString("type", artifact.Type);
                w.WriteNumber("size", artifact.Size);
                w.WriteNumber("length", text.Length);
                w.WriteNumber("offset", start);
                w.WriteString("text", text.AsSpan(start, length));
                w.WriteEndObject();
            });
        }));
        app.MapGet("/api/tasks/{flow}/{run}/{step}/{task}/card", (string flow, string run, string step, string task) => Guard(() =>
        {
            var info = GetTask(flow, run, step, task);
            return Json(w => CardState(w, info));
        }));
        // A card's page, for the task page's sandboxed frame: its own policy (scripts from /assets/ only, opaque origin).
        app.MapGet("/cards/{flow}/{run}/{step}/{task}", (string flow, string run, string step, string task, HttpContext context) => Guard(() =>
        {
            var info = GetTask(flow, run, step, task);
            var card = info.Card ?? throw new FlowException($"Task {info.Pathspec} has no card.");
            context.Response.Headers.ContentSecurityPolicy = CardPage.FramePolicy($"{context.Request.Scheme}://{context.Request.Host}");
            context.Response.Headers.CacheControl = "no-store";
            return Results.Content(CardPage.Linked(card), "text/html; charset=utf-8");
        }));
        app.MapGet("/api/runs/{flow}/{run}/code", (string flow, string run) => Guard(() =>
        {
            var code = GetRun(flow, run).Code;
            return Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("hash", code.Hash);
                Strings(w, "files", code.Sources);
                w.WriteEndObject();
            });
        }));
        app.MapGet("/api/runs/{flow}/{run}/code/file", (string flow, string run, string? path) => Guard(() =>
        {
            var code = GetRun(flow, run).Code;
            // Only a path the snapshot lists is read: the manifest is the allow-list, so nothing else can be named.
            if (string.IsNullOrEmpty(path) || !code.Sources.Contains(path, StringComparer.Ordinal))
            {
                throw new FlowException($"The code snapshot {code.Hash[..12]} has no source file '{path}'.");
            }
            var text = ReadSource(code, path);
            return Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("path", path);
                w.WriteString("text", text.Text);
                w.WriteBoolean("truncated", text.Truncated);
                w.WriteBoolean("binary", text.Binary);
                w.WriteEndObject();
            });
        }));
        app.MapGet("/api/tasks/{flow}/{run}/{step}/{task}/logs", (string flow, string run, string step, string task, long? stdout, long? stderr, int? attempt) => Guard(() =>
        {
            var info = GetTask(flow, run, step, task);
            var output = info.Output(attempt, from: new OutputPosition(Math.Max(0, stdout ?? 0), Math.Max(0, stderr ?? 0)));
            var complete = output.IsComplete;
            var lines = output.ReadNew(final: complete).ToList();
            return Json(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("attempt", output.Attempt);
                w.WriteBoolean("complete", complete);
                w.WriteNumber("stdout", output.Position.Stdout);
                w.WriteNumber("stderr", output.Position.Stderr);
                // Only the newest lines of a long read are sent; the page says how many came before them.
                w.WriteNumber("skipped", Math.Max(0, lines.Count - MaxLogLines));
                w.WriteStartArray("lines");
                foreach (var line in lines.TakeLast(MaxLogLines))
                {
                    w.WriteStartObject();
                    w.WriteString("time", line.TimeText);
                    w.WriteString("text", line.Text);
                    w.WriteBoolean("err", line.IsError);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }));
    }

    private RunInfo GetRun(string flow, string run)
    {
        var spec = Parse(() => Pathspec.ParseRun($"{flow}/{run}", null));
        return store.GetFlow(spec.Flow!).GetRun(spec.Run);
    }

    private TaskInfo GetTask(string flow, string run, string step, string task)
    {
        var spec = Parse(() => Pathspec.ParseFull($"{flow}/{run}/{step}/{task}", 4));
        return store.GetTask(spec.ToString());
    }

    /// <summary>A path part that is not a plain name (a traversal, say) is a bad request, never a read.</summary>
    private static Pathspec Parse(Func<Pathspec> parse)
    {
        try
        {
            return parse();
        }
        catch (FlowException e)
        {
            throw new BadPathException(e.Message);
        }
    }

    internal sealed class BadPathException(string message) : Exception(message);

    private static bool Matches(RunInfo run, string q) =>
        run.Id.Contains(q, StringComparison.OrdinalIgnoreCase)
        || run.User.Contains(q, StringComparison.OrdinalIgnoreCase)
        || run.Tags.Any(t => t.Contains(q, StringComparison.OrdinalIgnoreCase));

    private static void RunHeader(Utf8JsonWriter w, RunInfo run)
    {
        w.WriteStartObject();
        RunFields(w, run);
        w.WriteEndObject();
    }

    /// <summary>What a run's row in a list and its page share: id, status, times, user, tags.</summary>
    private static void RunFields(Utf8JsonWriter w, RunInfo run)
    {
        w.WriteString("flow", run.Flow);
        w.WriteString("id", run.Id);
        w.WriteString("status", run.Status);
        w.WriteString("startedAt", run.StartedAt);
        if (run.FinishedAt is { } finished)
        {
            w.WriteString("finishedAt", finished);
        }
        w.WriteString("user", run.User);
        Strings(w, "tags", run.Tags);
    }

    /// <summary>A run's parameters as JSON text, each shortened to <paramref name="max"/> characters (read from its Start task).</summary>
    private static void Parameters(Utf8JsonWriter w, RunInfo run, int max)
    {
        w.WriteStartObject("parameters");
        if (run.Parameters.Count > 0 && Safe(() => run["Start"].Tasks.FirstOrDefault()) is { } start)
        {
            foreach (var name in run.Parameters.Order(StringComparer.Ordinal))
            {
                w.WriteString(name, Shorten(Safe(() => start[name].ToJson()), max));
            }
        }
        w.WriteEndObject();
    }

    private static void RunDetail(Utf8JsonWriter w, RunInfo run)
    {
        w.WriteStartObject();
        RunFields(w, run);
        w.WriteString("failure", run.Failure);
        w.WriteString("origin", run.OriginRunId);
        w.WriteString("code", run.Code.Hash);
        Strings(w, "systemTags", run.SystemTags);
        var steps = run.Steps.ToList();
        Parameters(w, run, 500);
        w.WriteStartArray("steps");
        var graph = Safe(() => run.Graph);
        foreach (var step in graph?.Steps ?? [])
        {
            w.WriteStartObject();
            w.WriteString("name", step.Name);
            w.WriteString("kind", step.Kind);
            Strings(w, "next", step.Next);
            w.WriteBoolean("join", step.IsJoin);
            if (step.ForEach is not null)
            {
                w.WriteString("forEach", step.ForEach);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        // Every task's row, read in parallel (a run of 10,000 tasks is 30,000 small reads), written in order.
        var tasks = steps.SelectMany(step => step.Tasks).ToArray();
        var rows = new TaskRow[tasks.Length];
        try
        {
            Parallel.For(0, tasks.Length, i =>
            {
                var task = tasks[i];
                rows[i] = new TaskRow(task.Step.Name, task.Id, task.Status, task.Attempt, task.StartedAt, task.FinishedAt, task.ClonedFrom);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions[0] is FlowException first)
        {
            throw first;
        }
        w.WriteStartArray("tasks");
        foreach (var row in rows)
        {
            w.WriteStartObject();
            w.WriteString("step", row.Step);
            w.WriteString("id", row.Id);
            w.WriteString("status", row.Status);
            w.WriteNumber("attempt", row.Attempt);
            Times(w, row.StartedAt, row.FinishedAt);
            if (row.ClonedFrom is { } origin)
            {
                w.WriteString("clonedFrom", origin);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A task's or attempt's start and end, each written only when known.</summary>
    private static void Times(Utf8JsonWriter w, DateTimeOffset? startedAt, DateTimeOffset? finishedAt)
    {
        if (startedAt is { } started)
        {
            w.WriteString("startedAt", started);
        }
        if (finishedAt is { } finished)
        {
            w.WriteString("finishedAt", finished);
        }
    }

    private sealed record TaskRow(string Step, string Id, string Status, int Attempt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? ClonedFrom);

    private static void TaskDetail(Utf8JsonWriter w, TaskInfo task)
    {
        w.WriteStartObject();
        w.WriteString("pathspec", task.Pathspec);
        w.WriteString("status", task.Status);
        w.WriteString("clonedFrom", task.ClonedFrom);
        if (task.Exception is { } error)
        {
            w.WriteStartObject("error");
            w.WriteString("type", error.Type);
            w.WriteString("message", error.Message);
            w.WriteString("stackTrace", error.StackTrace);
            w.WriteEndObject();
        }
        w.WriteStartArray("attempts");
        foreach (var attempt in task.Attempts)
        {
            w.WriteStartObject();
            w.WriteNumber("number", attempt.Number);
            w.WriteString("status", attempt.Status);
            Times(w, attempt.StartedAt, attempt.FinishedAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WritePropertyName("card");
        CardState(w, task);
        w.WriteStartArray("artifacts");
        foreach (var artifact in task.Artifacts)
        {
            w.WriteStartObject();
            w.WriteString("name", artifact.Name);
            w.WriteString("type", artifact.Type);
            w.WriteNumber("size", artifact.Size);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A source file's text, at most <see cref="MaxSourceChars"/> characters; a file with NUL characters is binary and not shown.</summary>
    private static (string Text, bool Truncated, bool Binary) ReadSource(CodeInfo code, string path)
    {
        using var reader = new StreamReader(code.OpenSource(path), System.Text.Encoding.UTF8);
        var buffer = new char[MaxSourceChars];
        var read = reader.ReadBlock(buffer, 0, buffer.Length);
        var text = new string(buffer, 0, read);
        return text.Contains('\0') ? (string.Empty, false, true) : (text, reader.Peek() >= 0, false);
    }

    /// <summary>Whether a task has a card, when it was stored and whether it can still change (its task still runs).</summary>
    private static void CardState(Utf8JsonWriter w, TaskInfo task)
    {
        var card = task.Card;
        w.WriteStartObject();
        w.WriteBoolean("exists", card is not null);
        w.WriteBoolean("final", card?.IsFinal ?? task.Finished || task.Status != "running");
        if (card is not null)
        {
            w.WriteNumber("attempt", card.Attempt);
            w.WriteString("updatedAt", card.UpdatedAt);
        }
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }
        w.WriteEndArray();
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private static T? Safe<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is FlowException or IOException or JsonException)
        {
            return default;
        }
    }

    private static string Safe(Func<string> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is FlowException or IOException or JsonException)
        {
            return $"(unreadable: {e.Message})";
        }
    }

    public static IResult Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_json))
        {
            write(writer);
        }
        return Results.Bytes(buffer.ToArray(), "application/json; charset=utf-8");
    }

    public static IResult Error(int status, string message) => Results.Json(new Dictionary<string, string> { ["error"] = message }, statusCode: status);

    private static IResult Guard(Func<IResult> handle) => GuardAsync(() => Task.FromResult(handle())).GetAwaiter().GetResult();

    private static async Task<IResult> GuardAsync(Func<Task<IResult>> handle)
    {
        try
        {
            return await handle();
        }
        catch (BadPathException e)
        {
            return Error(StatusCodes.Status400BadRequest, e.Message);
        }
        catch (FlowException e)
        {
            return Error(StatusCodes.Status404NotFound, e.Message);
        }
    }
}
