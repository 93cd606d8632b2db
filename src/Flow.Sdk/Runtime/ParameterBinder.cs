using System.Globalization;
using System.Text.Json;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;

namespace Flow.Sdk.Runtime;

/// <summary>An included file's path, resolved and checked readable; its content is stored by <see cref="ParameterBinder.Store"/>.</summary>
/// <param name="Path">The path as given (or the default), or null when no file was given.</param>
/// <param name="FullPath">The absolute path.</param>
internal sealed record IncludedPath(string? Path, string? FullPath);

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
            throw new FlowException($"Unknown option --{InputChecks.Shorten(unknown)} for flow {flow.Name}: {known} (see --help).");
        }
        FlowSpec? defaults = null;
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var definition in flow.Parameters)
        {
            var parameter = flow.Graph.Parameters.First(p => p.Name == definition.Name);
            if (parameter.IsFile)
            {
                values[definition.Name] = ResolveFile(flow, parameter, given);
                continue;
            }
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

    /// <summary>
    /// The file an included-file option names (the command line, then <c>FLOW_RUN_*</c>, then the default),
    /// checked to exist and be readable now, so a run is never created for a file it cannot store.
    /// </summary>
    private static IncludedPath ResolveFile(FlowDefinition flow, GraphParameter parameter, IReadOnlyDictionary<string, string?> given)
    {
        string? path;
        string source;
        if (given.TryGetValue(parameter.Option, out var raw))
        {
            path = raw ?? throw new FlowException($"Parameter --{parameter.Option} needs a file path.");
            source = "";
        }
        else if (Environment.GetEnvironmentVariable(parameter.EnvironmentVariable) is { } fromEnv)
        {
            (path, source) = (fromEnv, $" (from {parameter.EnvironmentVariable})");
        }
        else if (parameter.Required)
        {
            throw new FlowException($"Included file --{parameter.Option} of flow {flow.Name} is required: pass --{parameter.Option} PATH or set {parameter.EnvironmentVariable}.");
        }
        else
        {
            (path, source) = (parameter.Default, " (the default)");
        }
        if (parameter.Encoding is { } encoding)
        {
            try
            {
                _ = System.Text.Encoding.GetEncoding(encoding);
            }
            catch (ArgumentException)
            {
                throw new FlowException($"Included file --{parameter.Option}: unknown text encoding '{encoding}'; use utf-8, utf-16, utf-32, us-ascii or iso-8859-1.");
            }
        }
        if (string.IsNullOrEmpty(path))
        {
            return parameter.Required
                ? throw new FlowException($"Included file --{parameter.Option} of flow {flow.Name} is required: pass --{parameter.Option} PATH (an empty path names no file).")
                : new IncludedPath(null, null);
        }
        var option = $"Included file --{parameter.Option}{source}";
        var shown = InputChecks.Shorten(path);
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new FlowException($"{option}: '{path}' is only spaces: give a file's path (an empty value means no file).");
        }
        var full = System.IO.Path.GetFullPath(path);
        if (InputChecks.TooLong(full) is { } tooLong)
        {
            throw new FlowException($"{option}: '{shown}' is too long for a path ({tooLong}); give a shorter path.");
        }
        // The type first, without opening: a folder cannot be read, a pipe's open blocks until a writer comes, and a
        // device (/dev/zero, /dev/urandom) would be stored forever (FileKind says how it is asked).
        var kind = FileKind.Of(full);
        switch (kind)
        {
            case FileKind.Kind.Missing:
                throw new FlowException($"{option}: {Missing(full, shown)}");
            case FileKind.Kind.Denied:
                throw new FlowException($"{option}: cannot reach {shown}: this user may not open one of its folders; fix their permissions or give another file.");
            case FileKind.Kind.Directory:
                throw new FlowException($"{option}: {shown} is a folder; give a file (its content is stored with the run).");
            case FileKind.Kind.Special:
                throw new FlowException($"{option}: {shown} is {FileKind.Describe(full, kind)}, not a regular file: only a regular file is stored (a pipe or device may never end); copy the data into a file and give that, or give an empty value for no file.");
        }
        try
        {
            using var probe = File.OpenRead(full);
        }
        catch (UnauthorizedAccessException)
        {
            throw new FlowException($"{option}: cannot read {shown}: permission denied; fix its permissions (chmod) or give another file.");
        }
        catch (Exception e) when (e is IOException or NotSupportedException)
        {
            throw new FlowException($"{option}: cannot read {shown}: {e.Message.TrimEnd('.')}; give a readable file.");
        }
        return new IncludedPath(path, full);
    }

    /// <summary>Why a path names nothing: no such file, or one of its folders is a file.</summary>
    private static string Missing(string full, string shown)
    {
        for (var dir = System.IO.Path.GetDirectoryName(full); dir is not null; dir = System.IO.Path.GetDirectoryName(dir))
        {
            if (File.Exists(dir))
            {
                return $"cannot read {shown}: {dir} is a file, not a folder; give the path of a file.";
            }
            if (Directory.Exists(dir))
            {
                return $"cannot read {shown}: no such file in {dir}; give the path of an existing file.";
            }
        }
        return $"cannot read {shown}: no such file; give the path of an existing file.";
    }

    /// <summary>Stores every parameter value as a blob (included files streamed from disk) and returns the references.</summary>
    public static Dictionary<string, ArtifactRef> Store(FlowDatastore store, FlowDefinition flow, IReadOnlyDictionary<string, object?> values)
    {
        var refs = new Dictionary<string, ArtifactRef>(StringComparer.Ordinal);
        foreach (var definition in flow.Parameters)
        {
            var value = values[definition.Name];
            var type = definition.Type.FullName ?? definition.Type.Name;
            if (value is IncludedPath file)
            {
                var parameter = flow.Graph.Parameters.First(p => p.Name == definition.Name);
                var encoding = definition.Type == typeof(string) ? ArtifactCodec.TextPrefix + (parameter.Encoding ?? "utf-8") : ArtifactCodec.Bytes;
                if (file.FullPath is null)
                {
                    refs[definition.Name] = new ArtifactRef(store.Blobs.Put(Array.Empty<byte>()), encoding, type, 0);
                    continue;
                }
                try
                {
                    var (sha, length) = store.Blobs.PutFile(file.FullPath);
                    refs[definition.Name] = new ArtifactRef(sha, encoding, type, length);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new FlowException($"Included file --{parameter.Option}: cannot store {file.Path}: {e.Message}");
                }
                continue;
            }
            var (valueEncoding, bytes) = ArtifactCodec.Serialize(value, definition.Type);
            refs[definition.Name] = new ArtifactRef(store.Blobs.Put(bytes), valueEncoding, type, bytes.LongLength);
        }
        return refs;
    }

    /// <summary>The paths the included files were given as, by property name, for the run record.</summary>
    public static Dictionary<string, string> IncludedFiles(IReadOnlyDictionary<string, object?> values)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (value is IncludedPath { Path: { } path })
            {
                files.Add(name, path);
            }
        }
        return files;
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
        if ((target == typeof(double) || target == typeof(float)) && double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var wide)
            && (double.IsInfinity(wide) || (target == typeof(float) && float.IsInfinity((float)wide))) && !raw.Contains("inf", StringComparison.OrdinalIgnoreCase)
            && !raw.Contains('∞', StringComparison.Ordinal))
        {
            // 1e999 parses as infinity: an overflow, not the infinity a user would write as "Infinity".
            throw new FlowException($"Parameter --{parameter.Option}{source}: '{InputChecks.Shorten(raw)}' is out of range for {parameter.Type} (it overflows to infinity); give a smaller number.");
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
            _ when parameter.Separator is { Length: > 0 } separator && !raw.StartsWith('[') && !raw.StartsWith('@') => Split(raw, separator, type, parameter, source),
            _ => FromJson(raw, type, parameter, source),
        };
        if (value is null && (target == typeof(int) || target == typeof(long)) && raw.Trim().TrimStart('-', '+') is { Length: > 0 } digits && digits.All(char.IsAsciiDigit))
        {
            var range = target == typeof(int) ? $"{int.MinValue} to {int.MaxValue}" : $"{long.MinValue} to {long.MaxValue}";
            throw new FlowException($"Parameter --{parameter.Option}{source}: '{InputChecks.Shorten(raw)}' is out of range for {parameter.Type} (from {range}).");
        }
        return value ?? throw new FlowException(
            $"Parameter --{parameter.Option}{source}: '{InputChecks.Shorten(raw)}' is not a valid {parameter.Type}{Expected(target)}.");
    }

    private static string Expected(Type target) => target switch
    {
        _ when target == typeof(bool) => " (expected true or false)",
        _ when target.IsEnum => " (expected one of " + string.Join(", ", Enum.GetNames(target)) + ")",
        _ when target == typeof(int) || target == typeof(long) => " (expected a whole number)",
        _ when target == typeof(double) || target == typeof(float) || target == typeof(decimal) => " (expected a number such as 0.25)",
        _ => string.Empty,
    };

    /// <summary>A list given as <c>1,2,3</c>: each item parsed as the element type, then bound like a JSON array.</summary>
    private static object? Split(string raw, string separator, Type type, GraphParameter parameter, string source)
    {
        var element = type.IsArray ? type.GetElementType()!
            : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0]
            ?? typeof(string);
        var items = raw.Length == 0 ? [] : raw.Split(separator).Select(item => Convert(item.Trim(), element, parameter with { Separator = null, Type = CSharpName(element) }, source)).ToArray();
        var array = Array.CreateInstance(element, items.Length);
        for (var i = 0; i < items.Length; i++)
        {
            array.SetValue(items[i], i);
        }
        if (type.IsAssignableFrom(array.GetType()))
        {
            return array;
        }
        return JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(array, array.GetType(), ArtifactCodec.ValueOptions), type, ArtifactCodec.ValueOptions);
    }

    private static string CSharpName(Type type) => Type.GetTypeCode(type) switch
    {
        TypeCode.Int32 => "int",
        TypeCode.Int64 => "long",
        TypeCode.Int16 => "short",
        TypeCode.Byte => "byte",
        TypeCode.Double => "double",
        TypeCode.Single => "float",
        TypeCode.Decimal => "decimal",
        TypeCode.Boolean => "bool",
        TypeCode.String => "string",
        _ => type.Name,
    };

    /// <summary>
    /// JSON configuration as people write it: member names in any case (<c>learningRate</c> binds LearningRate), and a
    /// member the type does not have is an error, so a misspelled setting is never silently left at its default.
    /// </summary>
    private static readonly JsonSerializerOptions s_configOptions = new(ArtifactCodec.ValueOptions)
    {
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
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
            return JsonSerializer.Deserialize(json, type, s_configOptions);
        }
        catch (JsonException e) when (e.LineNumber is { } line && e.BytePositionInLine is { } column)
        {
            var message = e.Message.Split(" Path: ", 2)[0].Split(" LineNumber: ", 2)[0].TrimEnd('.', ' ');
            throw new FlowException($"Parameter --{parameter.Option}{source}: the JSON does not fit {parameter.Type} at line {line + 1}, position {column + 1}: {message}.");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new FlowException($"Parameter --{parameter.Option}{source}: not valid JSON for {parameter.Type} ({e.Message}).");
        }
    }
}
