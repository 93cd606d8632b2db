namespace Flow.Sdk.Tests.Support;

/// <summary>
/// Tests that read or change process environment variables (FLOW_DATASTORE, FLOW_RUN_*) run in this collection,
/// one at a time and never next to another test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "Environment";
}

/// <summary>Sets environment variables for a test and restores their previous values on dispose.</summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new(StringComparer.Ordinal);

    public EnvironmentScope Set(string name, string? value)
    {
        if (!_saved.ContainsKey(name))
        {
            _saved[name] = Environment.GetEnvironmentVariable(name);
        }
        Environment.SetEnvironmentVariable(name, value);
        return this;
    }

    public EnvironmentScope Clear(params string[] names)
    {
        foreach (var name in names)
        {
            Set(name, null);
        }
        return this;
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
