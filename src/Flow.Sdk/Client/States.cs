namespace Flow.Sdk;

/// <summary>Where a run is.</summary>
public enum RunState
{
    /// <summary>Its orchestrator is alive (a fresh heartbeat, and on this machine, its process).</summary>
    Running,

    /// <summary>It reached its End step.</summary>
    Succeeded,

    /// <summary>A task failed, it was interrupted, or its processes died.</summary>
    Failed,
}

/// <summary>Where a task's latest attempt is.</summary>
public enum TaskState
{
    /// <summary>Its process is alive and it has not finished.</summary>
    Running,

    /// <summary>It finished successfully.</summary>
    Succeeded,

    /// <summary>It finished with a failure.</summary>
    Failed,

    /// <summary>It never finished and its process is gone (or it never started).</summary>
    Died,
}
