using System.Net;
using System.Security.Cryptography;
using System.Text;
using Flow.Sdk;

namespace Flow.Cli.Ui;

/// <summary>
/// A card's page (docs/cards.md): the stored fragment with the card's styles and the scripts that draw its charts.
/// The UI serves it linked to its assets, inside a sandboxed frame; <c>card get</c> writes it with everything inline.
/// </summary>
internal static class CardPage
{
    /// <summary>The scripts a card page loads, in order: Vega, Vega-Lite, vega-embed (vendored), then the card's own.</summary>
    private static readonly string[] s_scripts = ["vendor/vega.min.js", "vendor/vega-lite.min.js", "vendor/vega-embed.min.js", "card.js"];

    /// <summary>
    /// The policy of a card served by the UI: its own origin is opaque (sandboxed, scripts only), it may load the UI's
    /// assets and nothing else, and it can neither fetch, nor navigate its parent, nor submit anything.
    /// </summary>
    public static string FramePolicy(string origin) =>
        $"default-src 'none'; script-src {origin}/assets/; style-src {origin}/assets/ 'unsafe-inline'; img-src data:; sandbox allow-scripts; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

    /// <summary>The page the UI shows in its frame: styles and scripts from <c>/assets/</c>.</summary>
    public static string Linked(CardInfo card)
    {
        var html = Start(card);
        html.Append("<link rel=\"stylesheet\" href=\"/assets/card.css\"></head><body>").Append(card.Html);
        foreach (var script in s_scripts)
        {
            html.Append("<script src=\"/assets/").Append(script).Append("\"></script>");
        }
        return html.Append("</body></html>").ToString();
    }

    /// <summary>
    /// One self-contained file: styles and scripts inline, allowed by their hashes only, and nothing fetched from
    /// anywhere (it opens offline, from a mail or a file share).
    /// </summary>
    public static string SelfContained(CardInfo card)
    {
        var scripts = s_scripts.Select(s => UiServer.ReadAsset(s).Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase)).ToList();
        var hashes = string.Join(' ', scripts.Select(s => $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(s)))}'"));
        var html = Start(card);
        html.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src ").Append(hashes)
            .Append("; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">");
        html.Append("<style>").Append(UiServer.ReadAsset("card.css")).Append("</style></head><body>").Append(card.Html);
        foreach (var script in scripts)
        {
            html.Append("<script>").Append(script).Append("</script>");
        }
        return html.Append("</body></html>").ToString();
    }

    private static StringBuilder Start(CardInfo card) =>
        new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
            .Append(WebUtility.HtmlEncode($"Card {card.Task.Pathspec} · dotnet flow")).Append("</title>");
}
