using System.Text;

namespace Flow.Sdk.Runtime;

/// <summary>
/// Reads lines from a process's output with bounded memory: a line longer than the limit comes out as several
/// lines of at most the limit (nothing is dropped), so a task that prints gigabytes without a newline cannot
/// exhaust the orchestrator. A piece never ends inside a control mark (<c>\u001f...</c>), so protocol lines are
/// always found whole.
/// </summary>
internal sealed class BoundedLineReader(TextReader reader, int maxChars, char mark)
{
    private readonly char[] _buffer = new char[8192];
    private readonly StringBuilder _line = new();
    private int _position;
    private int _length;
    private bool _ended;

    /// <summary>The next line (without its newline), or null at the end of the stream.</summary>
    public async Task<string?> ReadLineAsync()
    {
        while (true)
        {
            while (_position < _length)
            {
                var c = _buffer[_position++];
                if (c == '\n')
                {
                    return Take(_line.Length);
                }
                _line.Append(c);
                if (_line.Length >= maxChars)
                {
                    return Take(SplitPoint());
                }
            }
            if (_ended)
            {
                return _line.Length > 0 ? Take(_line.Length) : null;
            }
            _length = await reader.ReadAsync(_buffer.AsMemory()).ConfigureAwait(false);
            _position = 0;
            _ended = _length == 0;
        }
    }

    /// <summary>Where to cut an overlong line: before a control mark near its end, so the mark stays whole.</summary>
    private int SplitPoint()
    {
        for (var i = _line.Length - 1; i >= Math.Max(1, _line.Length - 256); i--)
        {
            if (_line[i] == mark)
            {
                return i;
            }
        }
        return _line.Length;
    }

    private string Take(int count)
    {
        var end = count;
        if (end > 0 && end == _line.Length && _line[end - 1] == '\r')
        {
            end--;
        }
        var text = _line.ToString(0, end);
        _line.Remove(0, count);
        return text;
    }
}
