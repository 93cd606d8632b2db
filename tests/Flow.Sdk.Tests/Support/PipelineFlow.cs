namespace Flow.Sdk.Tests.Support;

/// <summary>A JSON-friendly artifact value.</summary>
public sealed record Point(int X, int Y);

/// <summary>A value whose serialization fails: one of its getters throws.</summary>
public sealed class ExplodingValue
{
    public int Fine => 1;

    public int Broken => throw new InvalidOperationException("the getter of Broken always throws");
}

/// <summary>A value whose getter throws an exception type the serializer does not know.</summary>
public sealed class FaultyValue
{
    public int Broken => throw new FormatException("the getter of Broken is faulty");
}

/// <summary>A value that holds a <see cref="Type"/>, which System.Text.Json refuses to serialize.</summary>
public sealed class TypeHolder
{
    public Type Kind { get; init; } = typeof(int);
}

/// <summary>A value that holds a native pointer, which System.Text.Json refuses to serialize.</summary>
public sealed class HandleHolder
{
    public IntPtr Handle { get; init; } = new(42);
}

/// <summary>An exception thrown by a step on purpose.</summary>
public sealed class StepFailedException(string message) : Exception(message);

/// <summary>Where <see cref="PipelineFlow.Start"/> goes next.</summary>
public enum StartTransition
{
    /// <summary>Next(Middle), as the graph says.</summary>
    Middle,

    /// <summary>Next(End), not what the graph says.</summary>
    End,

    /// <summary>No call to Next.</summary>
    None,
}

/// <summary>What each step of a <see cref="PipelineFlow"/> does before its transition.</summary>
public sealed class StepHooks
{
    public Action<PipelineFlow>? Start { get; init; }

    public Action<PipelineFlow>? Middle { get; init; }

    public Action<PipelineFlow>? End { get; init; }

    public StartTransition StartTransition { get; init; } = StartTransition.Middle;
}

/// <summary>
/// A flow Start → Middle → End with one parameter and artifact properties written by hand the way the generator
/// writes them (through GetArtifact/SetArtifact).
/// </summary>
public sealed class PipelineFlow : FlowSpec
{
    public int Count { get; init; } = 3;

    public StepHooks Hooks { get; init; } = new();

    public string Greeting
    {
        get => GetArtifact<string>(nameof(Greeting));
        set => SetArtifact(nameof(Greeting), value);
    }

    public string Echo
    {
        get => GetArtifact<string>(nameof(Echo));
        set => SetArtifact(nameof(Echo), value);
    }

    public List<int> Numbers
    {
        get => GetArtifact<List<int>>(nameof(Numbers));
        set => SetArtifact(nameof(Numbers), value);
    }

    public Point Origin
    {
        get => GetArtifact<Point>(nameof(Origin));
        set => SetArtifact(nameof(Origin), value);
    }

    public string NeverSet
    {
        get => GetArtifact<string>(nameof(NeverSet));
        set => SetArtifact(nameof(NeverSet), value);
    }

    public ExplodingValue Exploding
    {
        get => GetArtifact<ExplodingValue>(nameof(Exploding));
        set => SetArtifact(nameof(Exploding), value);
    }

    public FaultyValue Faulty
    {
        get => GetArtifact<FaultyValue>(nameof(Faulty));
        set => SetArtifact(nameof(Faulty), value);
    }

    public TypeHolder Types
    {
        get => GetArtifact<TypeHolder>(nameof(Types));
        set => SetArtifact(nameof(Types), value);
    }

    public HandleHolder Handles
    {
        get => GetArtifact<HandleHolder>(nameof(Handles));
        set => SetArtifact(nameof(Handles), value);
    }

    public void Start()
    {
        Hooks.Start?.Invoke(this);
        switch (Hooks.StartTransition)
        {
            case StartTransition.Middle:
                Next(Middle);
                break;
            case StartTransition.End:
                Next(End);
                break;
            case StartTransition.None:
                break;
        }
    }

    public void Middle()
    {
        Hooks.Middle?.Invoke(this);
        Next(End);
    }

    public void End() => Hooks.End?.Invoke(this);
}
