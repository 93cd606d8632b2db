using Flow.Sdk;

namespace Flow.Cli.Tests.Support;

/// <summary>
/// Tests that set the static <see cref="FlowClient.Namespace"/> (which <c>latest</c> depends on) run in this
/// collection, one at a time and never next to another test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NamespaceCollection
{
    public const string Name = "FlowClient.Namespace";
}

/// <summary>Sets <see cref="FlowClient.Namespace"/> for a test and restores the previous value on dispose.</summary>
internal sealed class NamespaceScope : IDisposable
{
    private readonly string? _saved = FlowClient.Namespace;

    public NamespaceScope(string? value) => FlowClient.Namespace = value;

    public void Dispose() => FlowClient.Namespace = _saved;
}
