namespace Flow.EndToEnd.Tests;

/// <summary>The product's package cache and user for code that starts dotnet from this process (FlowRunner), restored on dispose.</summary>
internal sealed class ProductEnvironment : IDisposable
{
    private readonly Dictionary<string, string?> _saved = [];

    public ProductEnvironment(PackedProduct product)
    {
        foreach (var (name, value) in product.Environment)
        {
            _saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
