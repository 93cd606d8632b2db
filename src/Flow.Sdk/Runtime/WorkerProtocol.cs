using Flow.Sdk.Datastore;

namespace Flow.Sdk.Runtime;

/// <summary>
/// The line protocol between the orchestrator and a worker process (docs/architecture.md, "Processes").
/// </summary>
/// <remarks>
/// A worker announces that it is ready with <c>\u001fFLOW:&lt;token&gt;:ready</c> on stdout, so the orchestrator hands
/// the next task to whichever worker is free first. The orchestrator writes one <see cref="TaskRequest"/> as a JSON line to the worker's stdin per task and closes
/// stdin to stop it. Everything the task prints goes to the worker's stdout and stderr and belongs to that task.
/// When the task is finalized the worker writes a control line to stderr, then one to stdout:
/// <c>\u001fFLOW:&lt;token&gt;:end:&lt;taskId&gt;</c> and <c>\u001fFLOW:&lt;token&gt;:done:&lt;taskId&gt;:&lt;status&gt;</c>.
/// The token (a random value per worker, passed in <see cref="TokenVariable"/>) keeps user output from faking
/// control lines. A task's output is complete when both lines have arrived.
/// </remarks>
internal static class WorkerProtocol
{
    public const string TokenVariable = "FLOW_WORKER_TOKEN";
    public const string WorkerCommand = "__worker";
    private const char Mark = '\u001f';

    public static string Prefix(string token) => $"{Mark}FLOW:{token}:";

    public static string DoneLine(string token, string taskId, string status, double cpuShare) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Prefix(token)}done:{taskId}:{status}:{cpuShare:0.###}");

    public static string EndLine(string token, string taskId) => $"{Prefix(token)}end:{taskId}";

    public static string ReadyLine(string token) => $"{Prefix(token)}ready";

    public static string Serialize(TaskRequest request) => System.Text.Encoding.UTF8.GetString(Json.Bytes(request));

    public static TaskRequest Deserialize(string line) => Json.Parse<TaskRequest>(System.Text.Encoding.UTF8.GetBytes(line));
}
