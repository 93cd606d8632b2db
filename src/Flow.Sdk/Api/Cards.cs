using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Markdig;
using Markdig.Syntax;

namespace Flow.Sdk
{
    /// <summary>
    /// Renders a report (a card) of each of the step's tasks, stored with the task and shown by <c>dotnet flow ui</c>
    /// and <c>dotnet flow card get</c>: the components the step adds to <see cref="Current.Card"/>, then its artifacts.
    /// </summary>
    /// <remarks>A card that fails to render never fails its task: the error shows in its place (docs/cards.md).</remarks>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
    public sealed class CardAttribute : Attribute
    {
        /// <summary>Gets or sets the card's title (default: the step's name).</summary>
        public string? Title { get; set; }

        /// <summary>Gets or sets a value indicating whether the card lists the task's artifacts after its components (default true).</summary>
        public bool Artifacts { get; set; } = true;
    }
}

namespace Flow.Sdk.Cards
{
    /// <summary>
    /// The card of the running task (<see cref="Current.Card"/>): add components while the step runs; the card is
    /// rendered and stored when the task ends, and whenever <see cref="Refresh"/> is called while it runs.
    /// </summary>
    /// <remarks>
    /// A step with <c>[Card]</c> always gets a card; any other step gets one when it adds a component. Outside a task
    /// components are kept but nothing is stored.
    /// </remarks>
    public sealed class TaskCard
    {
        /// <summary>The shortest time between two stored refreshes; a refresh asked for sooner is stored when it has passed.</summary>
        public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

        private readonly List<CardComponent> _components = [];
        private readonly Lock _gate = new();
        private readonly Action<string>? _publish;
        private readonly Func<string>? _header;
        private DateTime _lastPublished = DateTime.MinValue;
        private Timer? _pending;
        private bool _closed;

        internal TaskCard(Action<string>? publish = null, Func<string>? header = null)
        {
            _publish = publish;
            _header = header;
        }

        /// <summary>Gets the components added so far, in order.</summary>
        public IReadOnlyList<CardComponent> Components
        {
            get
            {
                lock (_gate)
                {
                    return [.. _components];
                }
            }
        }

        /// <summary>Appends components to the card.</summary>
        /// <param name="components">The components, shown in this order after those added before.</param>
        /// <returns>This card, to chain calls.</returns>
        public TaskCard Add(params CardComponent[] components)
        {
            ArgumentNullException.ThrowIfNull(components);
            lock (_gate)
            {
                foreach (var component in components)
                {
                    _components.Add(component ?? throw new ArgumentNullException(nameof(components), "A card component is null."));
                }
            }
            return this;
        }

        /// <summary>Removes every component.</summary>
        public void Clear()
        {
            lock (_gate)
            {
                _components.Clear();
            }
        }

        /// <summary>
        /// Stores the card as it is now, so the UI shows it while the task runs. Calls closer together than
        /// <see cref="RefreshInterval"/> are folded into one, stored when the interval has passed.
        /// </summary>
        public void Refresh()
        {
            if (_publish is null)
            {
                return;
            }
            lock (_gate)
            {
                if (_closed || _pending is not null)
                {
                    return;
                }
                var wait = _lastPublished + RefreshInterval - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    _pending = new Timer(_ => PublishPending(), null, wait, Timeout.InfiniteTimeSpan);
                    return;
                }
                _lastPublished = DateTime.UtcNow;
            }
            Publish();
        }

        /// <summary>Gets a value indicating whether the task added any component.</summary>
        internal bool HasComponents
        {
            get
            {
                lock (_gate)
                {
                    return _components.Count > 0;
                }
            }
        }

        /// <summary>Stops refreshes (the task is ending: its final card is stored next).</summary>
        internal void Close()
        {
            lock (_gate)
            {
                _closed = true;
                _pending?.Dispose();
                _pending = null;
            }
        }

        private void PublishPending()
        {
            lock (_gate)
            {
                _pending?.Dispose();
                _pending = null;
                if (_closed)
                {
                    return;
                }
                _lastPublished = DateTime.UtcNow;
            }
            Publish();
        }

        private void Publish()
        {
            try
            {
                _publish!(CardRenderer.Render(_header?.Invoke() ?? string.Empty, Components, null, live: true));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A card is a report: failing to store a refresh never fails the task.
                Console.Error.WriteLine($"The card of {Current.Pathspec} could not be stored: {e.Message}");
            }
        }
    }

    /// <summary>One part of a card: <see cref="Markdown"/>, <see cref="Table"/>, <see cref="Image"/>, <see cref="VegaLite"/>, <see cref="ProgressBar"/>.</summary>
    public abstract class CardComponent
    {
        private protected CardComponent()
        {
        }

        /// <summary>Writes the component's HTML; every value it holds is escaped.</summary>
        internal abstract void Render(StringBuilder html);
    }

    /// <summary>Markdown text (CommonMark with tables, lists, emphasis and code; rendered by Markdig). Raw HTML in it is shown as text.</summary>
    /// <param name="text">The Markdown.</param>
    public sealed class Markdown(string text) : CardComponent
    {
        private static readonly Lazy<Markdig.MarkdownPipeline> s_pipeline = new(() =>
            new Markdig.MarkdownPipelineBuilder().UseAdvancedExtensions().DisableHtml().Build());

        /// <summary>Gets the Markdown text.</summary>
        public string Text { get; } = text ?? throw new ArgumentNullException(nameof(text));

        internal override void Render(StringBuilder html)
        {
            var document = Markdig.Markdown.Parse(Text, s_pipeline.Value);
            // Links and images keep web, mail and in-page targets only: no javascript: or data: URLs.
            foreach (var link in document.Descendants<Markdig.Syntax.Inlines.LinkInline>())
            {
                if (link.Url is { } url && !CardRenderer.IsSafeUrl(url))
                {
                    link.Url = "#";
                }
            }
            html.Append("<div class=\"flow-markdown\">").Append(Markdig.Markdown.ToHtml(document, s_pipeline.Value)).Append("</div>");
        }
    }

    /// <summary>A table of values: a header row and rows of cells (each cell a value shown as text, or a component).</summary>
    public sealed class Table : CardComponent
    {
        /// <summary>The most rows a card shows of one table; the count of the rest is said.</summary>
        public const int MaxRows = 1000;

        /// <summary>Initializes a table from its headers and rows.</summary>
        /// <param name="headers">The column headers.</param>
        /// <param name="rows">The rows: each a sequence of cells (a value, or a <see cref="CardComponent"/>).</param>
        public Table(IEnumerable<string> headers, IEnumerable<IEnumerable<object?>> rows)
        {
            ArgumentNullException.ThrowIfNull(headers);
            ArgumentNullException.ThrowIfNull(rows);
            Headers = [.. headers];
            Rows = [.. rows.Select(r => (IReadOnlyList<object?>)[.. r])];
        }

        /// <summary>Gets the column headers.</summary>
        public IReadOnlyList<string> Headers { get; }

        /// <summary>Gets the rows.</summary>
        public IReadOnlyList<IReadOnlyList<object?>> Rows { get; }

        /// <summary>A table of records: one column per public readable property of <typeparamref name="T"/>, one row per record.</summary>
        /// <typeparam name="T">The record type.</typeparam>
        /// <param name="records">The records.</param>
        /// <returns>The table.</returns>
        public static Table From<T>(IEnumerable<T> records)
        {
            ArgumentNullException.ThrowIfNull(records);
            var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.GetIndexParameters().Length == 0).ToArray();
            return new Table(properties.Select(p => p.Name), records.Select(r => properties.Select(p => r is null ? null : p.GetValue(r))));
        }

        internal override void Render(StringBuilder html)
        {
            html.Append("<div class=\"flow-table\"><table><thead><tr>");
            foreach (var header in Headers)
            {
                html.Append("<th>").Append(CardRenderer.Escape(header)).Append("</th>");
            }
            html.Append("</tr></thead><tbody>");
            foreach (var row in Rows.Take(MaxRows))
            {
                html.Append("<tr>");
                foreach (var cell in row)
                {
                    html.Append("<td>");
                    if (cell is CardComponent component)
                    {
                        CardRenderer.RenderComponent(html, component);
                    }
                    else
                    {
                        html.Append(CardRenderer.Escape(CardRenderer.Text(cell)));
                    }
                    html.Append("</td>");
                }
                html.Append("</tr>");
            }
            html.Append("</tbody></table>");
            if (Rows.Count > MaxRows)
            {
                html.Append("<p class=\"flow-note\">").Append(CultureInfo.InvariantCulture, $"The first {MaxRows} of {Rows.Count} rows.").Append("</p>");
            }
            html.Append("</div>");
        }
    }

    /// <summary>An image: PNG, JPEG, GIF, WebP or SVG bytes (a chart rendered by ScottPlot or any library, say).</summary>
    public sealed class Image : CardComponent
    {
        /// <summary>Initializes an image from its encoded bytes; the format is read from them.</summary>
        /// <param name="bytes">PNG, JPEG, GIF, WebP or SVG bytes.</param>
        /// <param name="title">A caption, also the image's alternative text.</param>
        public Image(byte[] bytes, string? title = null)
        {
            Bytes = bytes ?? throw new ArgumentNullException(nameof(bytes));
            Title = title;
        }

        /// <summary>Gets the encoded bytes.</summary>
        public byte[] Bytes { get; }

        /// <summary>Gets the caption.</summary>
        public string? Title { get; }

        /// <summary>An image from SVG markup (shown as an image: scripts in it never run).</summary>
        /// <param name="svg">The SVG document.</param>
        /// <param name="title">A caption.</param>
        /// <returns>The image.</returns>
        public static Image FromSvg(string svg, string? title = null) => new(Encoding.UTF8.GetBytes(svg ?? throw new ArgumentNullException(nameof(svg))), title);

        /// <summary>The media type of image bytes, from their first bytes, or null when they are none of the formats a card shows.</summary>
        /// <param name="bytes">The bytes.</param>
        /// <returns>image/png, image/jpeg, image/gif, image/webp, image/svg+xml or null.</returns>
        public static string? MediaType(ReadOnlySpan<byte> bytes)
        {
            if (bytes.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47]))
            {
                return "image/png";
            }
            if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
            {
                return "image/jpeg";
            }
            if (bytes.StartsWith("GIF8"u8))
            {
                return "image/gif";
            }
            if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
            {
                return "image/webp";
            }
            var head = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 512)]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
            return head.StartsWith("<svg", StringComparison.Ordinal) || (head.StartsWith("<?xml", StringComparison.Ordinal) && head.Contains("<svg", StringComparison.Ordinal))
                ? "image/svg+xml"
                : null;
        }

        internal override void Render(StringBuilder html)
        {
            var type = MediaType(Bytes) ?? throw new FormatException("the bytes are not a PNG, JPEG, GIF, WebP or SVG image");
            html.Append("<figure class=\"flow-image\"><img alt=\"").Append(CardRenderer.Escape(Title ?? "image")).Append("\" src=\"data:")
                .Append(type).Append(";base64,").Append(Convert.ToBase64String(Bytes)).Append("\">");
            if (Title is not null)
            {
                html.Append("<figcaption>").Append(CardRenderer.Escape(Title)).Append("</figcaption>");
            }
            html.Append("</figure>");
        }
    }

    /// <summary>
    /// A chart as a Vega-Lite specification (https://vega.github.io/vega-lite/), with its data inline; the page that
    /// shows the card draws it with Vega-Lite (vendored in the tool: nothing is fetched from the internet).
    /// </summary>
    public sealed class VegaLite : CardComponent
    {
        private static readonly JsonSerializerOptions s_options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

        /// <summary>Initializes a chart from its specification as JSON text.</summary>
        /// <param name="spec">The Vega-Lite specification.</param>
        public VegaLite(string spec)
        {
            Spec = spec ?? throw new ArgumentNullException(nameof(spec));
        }

        /// <summary>Gets the specification, as JSON text.</summary>
        public string Spec { get; }

        /// <summary>A chart from a specification object (an anonymous object, a dictionary), serialized with camel-case names.</summary>
        /// <param name="spec">The specification.</param>
        /// <returns>The chart.</returns>
        public static VegaLite From(object spec) => new(JsonSerializer.Serialize(spec ?? throw new ArgumentNullException(nameof(spec)), s_options));

        internal override void Render(StringBuilder html)
        {
            using (var document = JsonDocument.Parse(Spec))
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException("a Vega-Lite specification is a JSON object");
                }
            }
            // Inside a JSON text '<' can only stand in a string, where \u003c means the same: the spec cannot end the element.
            html.Append("<div class=\"flow-vega\"><script type=\"application/json\">")
                .Append(Spec.Replace("<", "\\u003c", StringComparison.Ordinal))
                .Append("</script></div>");
        }
    }

    /// <summary>A progress bar; set <see cref="Value"/> and call <see cref="TaskCard.Refresh"/> to show progress while the task runs.</summary>
    /// <param name="max">The value at which the bar is full.</param>
    /// <param name="label">The label shown beside it.</param>
    public sealed class ProgressBar(double max = 100, string? label = null) : CardComponent
    {
        /// <summary>Gets the value at which the bar is full.</summary>
        public double Max { get; } = max > 0 && double.IsFinite(max) ? max : throw new ArgumentOutOfRangeException(nameof(max), max, "The maximum of a progress bar is a finite number above 0.");

        /// <summary>Gets the label.</summary>
        public string? Label { get; } = label;

        /// <summary>Gets or sets the current value, from 0 to <see cref="Max"/>.</summary>
        public double Value { get; set; }

        /// <summary>Sets <see cref="Value"/>.</summary>
        /// <param name="value">The current value.</param>
        public void Update(double value) => Value = value;

        internal override void Render(StringBuilder html)
        {
            var value = Math.Clamp(double.IsFinite(Value) ? Value : 0, 0, Max);
            html.Append("<div class=\"flow-progress\">");
            if (Label is not null)
            {
                html.Append("<span class=\"flow-progress-label\">").Append(CardRenderer.Escape(Label)).Append("</span>");
            }
            html.Append(CultureInfo.InvariantCulture, $"<progress max=\"{Max}\" value=\"{value}\"></progress>")
                .Append(CultureInfo.InvariantCulture, $"<span class=\"flow-progress-value\">{value:0.##} / {Max:0.##} ({value / Max * 100:0}%)</span></div>");
        }
    }

    /// <summary>One artifact as the default section of a card lists it.</summary>
    internal sealed record CardArtifact(string Name, string Type, long Size, string? Preview);

    /// <summary>Renders a card's HTML fragment (docs/cards.md); the tool wraps it in a page with the chart scripts.</summary>
    internal static class CardRenderer
    {
        /// <summary>The largest card stored; a larger one is replaced by a note saying so.</summary>
        public const int MaxCardChars = 16 << 20;

        public static string Render(string header, IReadOnlyList<CardComponent> components, IReadOnlyList<CardArtifact>? artifacts, bool live)
        {
            var html = new StringBuilder();
            html.Append("<article class=\"flow-card\"").Append(live ? " data-live=\"true\"" : string.Empty).Append('>').Append(header);
            foreach (var component in components)
            {
                RenderComponent(html, component);
            }
            if (artifacts is not null)
            {
                html.Append("<section class=\"flow-artifacts\"><h2>Artifacts</h2>");
                if (artifacts.Count == 0)
                {
                    html.Append("<p class=\"flow-note\">None.</p>");
                }
                else
                {
                    RenderComponent(html, new Table(["Name", "Type", "Size", "Value"], artifacts.Select(a => new object?[] { a.Name, a.Type, Size(a.Size), a.Preview ?? "" })));
                }
                html.Append("</section>");
            }
            html.Append("</article>");
            if (html.Length > MaxCardChars)
            {
                return $"<article class=\"flow-card\">{header}<div class=\"flow-card-error\">{Escape($"The card is {html.Length / (1 << 20)} MiB of HTML, more than the {MaxCardChars >> 20} MiB a card may hold: show less (a smaller image, fewer rows).")}</div></article>";
            }
            return html.ToString();
        }

        /// <summary>Renders one component; a component that fails shows its error in its place.</summary>
        public static void RenderComponent(StringBuilder html, CardComponent component)
        {
            var mark = html.Length;
            try
            {
                component.Render(html);
            }
            catch (Exception e)
            {
                html.Length = mark;
                html.Append("<div class=\"flow-card-error\">")
                    .Append(Escape($"This {component.GetType().Name} could not be rendered: {e.GetType().Name}: {e.Message}"))
                    .Append("</div>");
            }
        }

        public static string Header(string title, string pathspec, string detail) =>
            $"<header class=\"flow-card-header\"><h1>{Escape(title)}</h1><p>{Escape(pathspec)} · {Escape(detail)}</p></header>";

        /// <summary>Text as HTML: the five characters that mean markup are escaped, everything else kept as it is.</summary>
        public static string Escape(string? text)
        {
            if (string.IsNullOrEmpty(text) || text.AsSpan().IndexOfAny("<>&\"'") < 0)
            {
                return text ?? string.Empty;
            }
            var html = new StringBuilder(text.Length + 16);
            foreach (var c in text)
            {
                html.Append(c switch
                {
                    '<' => "&lt;",
                    '>' => "&gt;",
                    '&' => "&amp;",
                    '"' => "&quot;",
                    '\'' => "&#39;",
                    _ => c.ToString(),
                });
            }
            return html.ToString();
        }

        public static string Text(object? value) => value switch
        {
            null => string.Empty,
            string s => s,
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Take(20).Select(Text)) + "]",
            _ => value.ToString() ?? string.Empty,
        };

        public static bool IsSafeUrl(string url)
        {
            var trimmed = url.Trim();
            if (trimmed.StartsWith('#') || trimmed.StartsWith('/') || trimmed.StartsWith("./", StringComparison.Ordinal) || trimmed.StartsWith("../", StringComparison.Ordinal))
            {
                return true;
            }
            var colon = trimmed.IndexOf(':');
            var slash = trimmed.IndexOfAny(['/', '?', '#']);
            if (colon < 0 || (slash >= 0 && slash < colon))
            {
                return true; // a relative URL
            }
            var scheme = trimmed[..colon];
            return scheme.Equals("http", StringComparison.OrdinalIgnoreCase) || scheme.Equals("https", StringComparison.OrdinalIgnoreCase) || scheme.Equals("mailto", StringComparison.OrdinalIgnoreCase);
        }

        private static string Size(long bytes) => bytes switch
        {
            < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
            < 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
            < 1 << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):0.#} MiB"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 30):0.##} GiB"),
        };
    }
}
