using System.Text.Json;
using Flow.Sdk;

namespace Flow.Cli.Ui;

/// <summary>
/// Runs of one flow side by side (docs/ui.md, "Compare"): their parameters, each step's wall time, and each step's
/// artifacts, equal or different across the runs (compared by content hash, so equal values are found without
/// loading them). Values up to <see cref="MaxValueBytes"/> are included for the page to show the difference.
/// </summary>
internal static class RunComparison
{
    /// <summary>Values whose stored size is at most this are sent; larger ones are named by size and hash.</summary>
    public const long MaxValueBytes = 4096;

    public static void Write(Utf8JsonWriter w, IReadOnlyList<RunInfo> runs)
    {
        var steps = new List<string>();
        var tasks = new List<Dictionary<string, List<TaskInfo>>>();
        foreach (var run in runs)
        {
            var byStep = new Dictionary<string, List<TaskInfo>>(StringComparer.Ordinal);
            foreach (var step in run.Steps)
            {
                byStep[step.Name] = [.. step.Tasks];
                if (!steps.Contains(step.Name))
                {
                    steps.Add(step.Name);
                }
            }
            tasks.Add(byStep);
        }
        // Steps in graph order where a run has a readable graph, then any others as found.
        if (runs.Select(r => Try(() => r.Graph)).FirstOrDefault(g => g is not null) is { } graph)
        {
            steps = [.. graph.Steps.Select(s => s.Name).Where(steps.Contains), .. steps.Where(s => graph.FindStep(s) is null)];
        }

        w.WriteStartObject();
        w.WriteStartArray("runs");
        foreach (var run in runs)
        {
            w.WriteStartObject();
            w.WriteString("id", run.Id);
            w.WriteString("status", run.Status);
            w.WriteString("startedAt", run.StartedAt);
            if (run.FinishedAt is { } finished)
            {
                w.WriteString("finishedAt", finished);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();

        var parameterNames = runs.SelectMany(r => r.Parameters).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        w.WriteStartArray("parameters");
        foreach (var name in parameterNames)
        {
            var values = runs.Select((run, i) => tasks[i].TryGetValue("Start", out var start) && start.Count > 0 && run.Parameters.Contains(name)
                ? start[0].Artifacts.FirstOrDefault(a => a.Name == name) : null).ToList();
            Row(w, name, values);
        }
        w.WriteEndArray();

        w.WriteStartArray("steps");
        foreach (var step in steps)
        {
            w.WriteStartObject();
            w.WriteString("name", step);
            w.WriteStartArray("seconds");
            foreach (var byStep in tasks)
            {
                if (byStep.TryGetValue(step, out var list) && Wall(list) is { } seconds)
                {
                    w.WriteNumberValue(Math.Round(seconds, 3));
                }
                else
                {
                    w.WriteNullValue();
                }
            }
            w.WriteEndArray();
            w.WriteStartArray("tasks");
            foreach (var byStep in tasks)
            {
                w.WriteNumberValue(byStep.TryGetValue(step, out var list) ? list.Count : 0);
            }
            w.WriteEndArray();
            // A step of one task compares its artifacts; a foreach's children are too many to line up by name.
            var single = tasks.Select(t => t.TryGetValue(step, out var list) && list.Count == 1 ? list[0] : null).ToList();
            w.WriteStartArray("artifacts");
            var names = single.Where(t => t is not null).SelectMany(t => Try(() => t!.Artifacts) ?? [])
                .Select(a => a.Name).Where(n => !parameterNames.Contains(n)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            foreach (var name in names)
            {
                Row(w, name, [.. single.Select(t => t is null ? null : Try(() => t.Artifacts)?.FirstOrDefault(a => a.Name == name))]);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>One name across the runs: each run's value (or its size and hash), and whether all are equal.</summary>
    private static void Row(Utf8JsonWriter w, string name, IReadOnlyList<ArtifactInfo?> values)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteBoolean("equal", values.All(v => v is not null) && values.Select(v => v!.Sha).Distinct(StringComparer.Ordinal).Count() == 1);
        w.WriteStartArray("values");
        foreach (var value in values)
        {
            if (value is null)
            {
                w.WriteNullValue();
                continue;
            }
            w.WriteStartObject();
            w.WriteString("type", value.Type);
            w.WriteNumber("size", value.Size);
            w.WriteString("sha", value.Sha[..12]);
            if (value.Size <= MaxValueBytes && Try(value.ToJson) is { } json)
            {
                w.WriteString("json", json);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static double? Wall(IReadOnlyList<TaskInfo> tasks)
    {
        var attempts = tasks.SelectMany(t => Try(() => t.Attempts) ?? []).ToList();
        var starts = attempts.Select(a => a.StartedAt).OfType<DateTimeOffset>().ToList();
        var ends = attempts.Select(a => a.FinishedAt).OfType<DateTimeOffset>().ToList();
        return starts.Count == 0 || ends.Count == 0 ? null : (ends.Max() - starts.Min()).TotalSeconds;
    }

    private static T? Try<T>(Func<T?> read)
        where T : class
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is FlowException or IOException or JsonException)
        {
            return null;
        }
    }
}
