namespace Flow.Sdk.Hosting;

/// <summary>
/// A small parser for the flow executable's options: <c>--name value</c>, <c>--name=value</c>, flags, repeats.
/// The executable parses its own options (rather than using a library) so that flow projects carry no extra
/// dependency and start fast.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    /// <summary>Gets options that are not built in (flow parameters): option name to value, null for a bare flag.</summary>
    public Dictionary<string, string?> Others { get; } = new(StringComparer.Ordinal);

    public static string? PeekValue(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--" + name && i + 1 < args.Length)
            {
                return args[i + 1];
            }
            if (args[i].StartsWith("--" + name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 3)..];
            }
        }
        return null;
    }

    public static CommandLine Parse(
        string[] args,
        IReadOnlyCollection<string> withValue,
        IReadOnlyCollection<string> flags,
        bool allowOthers = false,
        IReadOnlySet<string>? flagOthers = null)
    {
        var result = new CommandLine();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-" || arg == "--")
            {
                throw new FlowException($"Unexpected argument '{InputChecks.Shorten(arg)}'; options are written --name value (see --help).");
            }
            var name = arg.TrimStart('-');
            string? inline = null;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }
            if (flags.Contains(name))
            {
                result._flags.Add(name);
                continue;
            }
            var isBuiltIn = withValue.Contains(name);
            if (!isBuiltIn && !allowOthers)
            {
                throw new FlowException($"Unknown option {InputChecks.Shorten(arg)} (see --help).");
            }
            string? value = inline;
            var bareFlag = flagOthers?.Contains(name) == true;
            if (value is null && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                && (!bareFlag || bool.TryParse(args[i + 1], out _)))
            {
                value = args[++i];
            }
            if (isBuiltIn)
            {
                if (value is null)
                {
                    throw new FlowException($"Option --{name} needs a value.");
                }
                if (!result._values.TryGetValue(name, out var list))
                {
                    result._values[name] = list = [];
                }
                list.Add(value);
            }
            else if (!result.Others.TryAdd(name, value))
            {
                throw new FlowException($"Parameter --{InputChecks.Shorten(name)} is given twice.");
            }
        }
        return result;
    }

    public bool Has(string flag) => _flags.Contains(flag);

    public string? Value(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var list) ? list : [];

    /// <summary>A whole-number option, at least <paramref name="min"/> (1: a count; 0: an index, such as step's --attempt).</summary>
    public int Int(string name, int fallback, int min = 1)
    {
        var raw = Value(name);
        if (raw is null)
        {
            return fallback;
        }
        return (int)InputChecks.Whole("--" + name, raw, min, int.MaxValue, $"--{name} {Math.Max(min, 4)}");
    }
}
