using System.Globalization;
using System.Text.Json;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;

namespace Flow.Sdk.Runtime;

/// <summary>
/// Resolves parameter values before a run starts: the command line, then <c>FLOW_RUN_*</c>, then the default.
/// Every error is a <see cref="FlowException"/> with exit code 2, thrown before anything is written.
/// </summary>
internal static class ParameterBinder
{
    public static Dictionary<string, object?> Resolve(FlowDefinition flow, IReadOnlyDictionary<string, string?> given)
    {
        var unknown = given.Keys.FirstOrDefault(option => !flow.Graph.Parameters.Any(p => p.Option == option));
        if (unknown is not null)
        {
            var known = flow.Graph.Parameters.Count == 0 ? "it has no parameters" : "its parameters are " + string.Join(", ", flow.Graph.Parameters.Select(p => "--" + p.Option));
            throw new FlowException($"Unknown option --{unknown} for flow {flow.Name}: {known} (see --help).");
        }
        FlowSpec? defaults = null;
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var definition in flow.Parameters)
        {
            var parameter = flow.Graph.Parameters.First(p => p.Name == definition.Name);
            if (given.TryGetValue(parameter.Option, out var raw))
            {
                values[definition.Name] = Convert(raw, definition.Type, parameter, "");
            }
            else if (Environment.GetEnvironmentVariable(parameter.EnvironmentVariable) is { } fromEnv)
            {
                values[definition.Name] = Convert(fromEnv, definition.Type, parameter, $" (from {parameter.EnvironmentVariable})");
            }
            else if (parameter.Required)
            {
                throw new FlowException($"Parameter --{parameter.Option} of flow {flow.Name} is required: pass --{parameter.Option} VALUE or set {parameter.EnvironmentVariable}.");
            }
            else
            {
                defaults ??= flow.CreateDefault();
                values[definition.Name] = definition.Getter(defaults);
            }
        }
        return values;
    }

    public static Dictionary<string, ArtifactRef> Store(FlowDatastore store, FlowDefinition flow, IReadOnlyDictionary<string, object?> values)
    {
        var refs = new Dictionary<string, ArtifactRef>(StringComparer.Ordinal);
        foreach (var definition in flow.Parameters)
        {
            var (encoding, bytes) = ArtifactCodec.Serialize(values[definition.Name], definition.Type);
            refs[definition.Name] = new ArtifactRef(store.Blobs.Put(bytes), encoding, definition.Type.FullName ?? definition.Type.Name, bytes.LongLength);
        }
        return refs;
    }

    private static object? Convert(string? raw, Type type, GraphParameter parameter, string source)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (raw is null)
        {
            if (target == typeof(bool))
            {
                return true;
            }
            throw new FlowException($"Parameter --{parameter.Option} needs a value ({parameter.Type}).");
        }
        object? value = target switch
        {
            _ when target == typeof(string) => raw,
            _ when target == typeof(bool) => bool.TryParse(raw, out var b) ? b : null,
            _ when target == typeof(int) => int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null,
            _ when target == typeof(long) => long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null,
            _ when target == typeof(double) => double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            _ when target == typeof(float) => float.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : null,
            _ when target == typeof(decimal) => decimal.TryParse(raw, NumberStyles.Number, CultureInfo.InvariantCulture, out var m) ? m : null,
            _ when target == typeof(DateTime) => DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : null,
            _ when target == typeof(DateOnly) => DateOnly.TryParse(raw, CultureInfo.InvariantCulture, out var o) ? o : null,
            _ when target.IsEnum => Enum.TryParse(target, raw, ignoreCase: true, out var e) && Enum.IsDefined(target, e!) ? e : null,
            _ => FromJson(raw, type, parameter, source),
        };
        return value ?? throw new FlowException(
            $"Parameter --{parameter.Option}{source}: '{raw}' is not a valid {parameter.Type}{Expected(target)}.");
    }

    private static string Expected(Type target) => target switch
    {
        _ when target == typeof(bool) => " (expected true or false)",
        _ when target.IsEnum => " (expected one of " + string.Join(", ", Enum.GetNames(target)) + ")",
        _ when target == typeof(int) || target == typeof(long) => " (expected a whole number)",
        _ when target == typeof(double) || target == typeof(float) || target == typeof(decimal) => " (expected a number such as 0.25)",
        _ => string.Empty,
    };

    private static object? FromJson(string raw, Type type, GraphParameter parameter, string source)
    {
        var json = raw;
        if (raw.StartsWith('@'))
        {
            try
            {
                json = File.ReadAllText(raw[1..]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FlowException($"Parameter --{parameter.Option}{source}: cannot read {raw[1..]}: {e.Message}");
            }
        }
        try
        {
            return JsonSerializer.Deserialize(json, type, ArtifactCodec.ValueOptions);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new FlowException($"Parameter --{parameter.Option}{source}: not valid JSON for {parameter.Type} ({e.Message}).");
        }
    }
}
