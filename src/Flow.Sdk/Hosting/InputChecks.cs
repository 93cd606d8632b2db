using System.Globalization;
using System.Text;
using Flow.Sdk.Datastore;

namespace Flow.Sdk.Hosting;

/// <summary>
/// The checks every command applies to option values before it reads or writes anything, shared by the tool and
/// the flow executable so both answer a bad value with the same line: paths that cannot name anything (empty,
/// blank, longer than the file system takes), flow names, numbers (not a number, out of range, overflowing), and
/// the one line for a file system error that reached the top (permission denied, a name too long).
/// </summary>
internal static class InputChecks
{
    /// <summary>The longest path Linux takes (PATH_MAX, 4096, less the terminating NUL), in bytes.</summary>
    public const int MaxPathBytes = 4095;

    /// <summary>The longest file or folder name (NAME_MAX), in bytes.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>A value as an error line quotes it: long ones cut, so the line stays one readable line.</summary>
    public static string Shorten(string value) =>
        value.Length <= 80 ? value : string.Create(CultureInfo.InvariantCulture, $"{value[..40]}... ({value.Length:N0} characters)");

    /// <summary>
    /// Refuses a path option that cannot name anything: empty, only spaces, with a control character, or longer
    /// than the file system takes (as given or once made absolute against <paramref name="baseDirectory"/>).
    /// </summary>
    /// <param name="option">The option, such as <c>--datastore</c>.</param>
    /// <param name="value">The value; null when the option was not given.</param>
    /// <param name="expected">What it should name, such as "a folder".</param>
    /// <param name="baseDirectory">The folder a relative path is relative to.</param>
    public static void Path(string option, string? value, string expected, string? baseDirectory = null)
    {
        if (value is null)
        {
            return;
        }
        if (value.Length == 0)
        {
            throw new FlowException($"{option} is empty: give {expected}, or leave the option out for the default.");
        }
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new FlowException($"{option} '{value}' is only spaces: give {expected}.");
        }
        if (value.Any(char.IsControl))
        {
            throw new FlowException($"{option} '{Shorten(Printable(value))}' contains a control character: give {expected}.");
        }
        var full = baseDirectory is null ? value : System.IO.Path.GetFullPath(value, baseDirectory);
        if (TooLong(full) is { } why)
        {
            throw new FlowException($"{option} '{Shorten(value)}' is too long for a path ({why}): give {expected} with a shorter path.");
        }
    }

    /// <summary>Why a path is too long for the file system, or null when it is not.</summary>
    public static string? TooLong(string path)
    {
        var bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes > MaxPathBytes)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes; a path has at most {MaxPathBytes:N0}");
        }
        var name = path.Split('/', '\\').FirstOrDefault(n => Encoding.UTF8.GetByteCount(n) > MaxNameBytes);
        return name is null ? null
            : string.Create(CultureInfo.InvariantCulture, $"a name of {Encoding.UTF8.GetByteCount(name):N0} bytes; a file or folder name has at most {MaxNameBytes}");
    }

    /// <summary>Refuses a <c>--flow</c> value that cannot be a flow's name (flows are named by their C# class).</summary>
    public static void FlowName(string? name)
    {
        if (name is null)
        {
            return;
        }
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new FlowException($"--flow is {(name.Length == 0 ? "empty" : "only spaces")}: give a flow name, such as --flow HelloFlow (a flow is named by its C# class).");
        }
        if (!FlowDatastore.IsIdentifier(name))
        {
            throw new FlowException($"--flow '{Shorten(Printable(name))}' is not a flow name: a flow is named by its C# class, such as --flow HelloFlow.");
        }
    }

    /// <summary>
    /// A whole number option: <paramref name="raw"/> is refused with one line when it is empty, not a whole number,
    /// overflows, or lies outside <paramref name="min"/>..<paramref name="max"/>.
    /// </summary>
    public static long Whole(string option, string raw, long min, long max, string example)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var text = raw.Trim();
        if (text.Length == 0)
        {
            throw new FlowException($"{option} needs a value: a whole number{Range(min, max)}, such as {example}.");
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            return n < min || n > max
                ? throw new FlowException($"{option} '{raw}' is out of range: give a whole number{Range(min, max)}, such as {example}.")
                : n;
        }
        var digits = text.TrimStart('-', '+');
        if (digits.Length > 0 && digits.All(char.IsAsciiDigit))
        {
            throw new FlowException($"{option} '{Shorten(raw)}' is too {(text.StartsWith('-') ? "small" : "large")}: give a whole number{Range(min, max)}, such as {example}.");
        }
        throw new FlowException($"{option} '{Shorten(Printable(raw))}' is not a whole number: give one{Range(min, max)}, such as {example}.");
    }

    /// <summary>A number option (fractions allowed): refused when empty, not a finite number, or out of range.</summary>
    public static double Number(string option, string raw, double min, double max, string example)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var text = raw.Trim();
        if (text.Length == 0)
        {
            throw new FlowException($"{option} needs a value: a number{Range(min, max)}, such as {example}.");
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || double.IsNaN(n))
        {
            throw new FlowException($"{option} '{Shorten(Printable(raw))}' is not a number: give one{Range(min, max)}, such as {example}.");
        }
        return n < min || n > max || double.IsInfinity(n)
            ? throw new FlowException($"{option} '{Shorten(raw)}' is out of range: give a number{Range(min, max)}, such as {example}.")
            : n;
    }

    /// <summary>
    /// One line for a file system error no command turned into its own message (a datastore file this user cannot
    /// read, a path the file system refuses): what failed, on which path, and what to do; null for any other error.
    /// </summary>
    /// <returns>The line (without <c>error: </c>) and the exit code, or null.</returns>
    public static (string Line, int ExitCode)? Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => ($"{Sentence(e.Message)}: this user may not read or change it; fix its permissions (or its folder's), or run as a user who may.", ExitCodes.Failure),
        PathTooLongException => ($"{Sentence(e.Message)}: a path has at most {MaxPathBytes:N0} bytes and each name at most {MaxNameBytes}; use a shorter path.", ExitCodes.Usage),
        FileNotFoundException or DirectoryNotFoundException => ($"{Sentence(e.Message)}: it was removed or never existed; check the path (another process, such as gc, may have removed it).", ExitCodes.Failure),
        IOException when e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) => ($"{Sentence(e.Message)}: the disk is full; free space and run again.", ExitCodes.Failure),
        IOException when e.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase) => ($"{Sentence(e.Message)}: the file system is mounted read-only; use a writable one.", ExitCodes.Failure),
        _ => null,
    };

    private static string Range(double min, double max) =>
        max >= int.MaxValue ? (min == 0 ? " of 0 or more" : string.Create(CultureInfo.InvariantCulture, $" of {min} or more"))
        : string.Create(CultureInfo.InvariantCulture, $" from {min} to {max}");

    private static string Sentence(string message)
    {
        var text = message.Trim().TrimEnd('.');
        return text.Length <= 400 ? text : text[..400] + "...";
    }

    private static string Printable(string value) => new([.. value.Select(c => char.IsControl(c) ? '?' : c)]);
}
