using System.Net;
using System.Net.Sockets;
using Flow.Sdk;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Flow.Cli.Ui;

/// <summary>
/// The read-only web UI over one datastore (docs/ui.md): page URLs return one shell, whose module reads the path;
/// the API under <c>/api/</c> reads through <see cref="FlowStore"/> only; assets are embedded in the tool.
/// </summary>
internal sealed class UiServer : IAsyncDisposable
{
    /// <summary>The Content-Security-Policy of every response: the UI's own scripts and styles only.</summary>
    public const string Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private readonly WebApplication _app;

    private UiServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>Gets the address the UI answers on.</summary>
    public Uri Address { get; }

    /// <summary>Starts serving <paramref name="store"/> on <paramref name="host"/>:<paramref name="port"/> (0: a free port).</summary>
    public static async Task<UiServer> StartAsync(FlowStore store, IPAddress host, int port, CancellationToken cancel = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "dotnet-flow-ui" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options => options.Listen(host, port));
        var app = builder.Build();
        var api = new UiApi(store);
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = Policy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            await next(context);
        });
        api.Map(app);
        app.MapGet("/assets/{**path}", (string path) => Asset(path));
        // Every other GET is a page: the shell, whose module reads the path (a flow, a run, a task, a comparison).
        app.MapFallback((HttpContext context) => context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal)
            ? UiApi.Error(StatusCodes.Status404NotFound, "no such API route")
            : Asset("index.html"));
        await app.StartAsync(cancel);
        var bound = app.Urls.Select(u => new Uri(u)).First();
        return new UiServer(app, new Uri($"http://{(host.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]" : host.ToString())}:{bound.Port}/"));
    }

    /// <summary>Waits until the server stops (Ctrl-C, SIGTERM).</summary>
    public Task WaitAsync(CancellationToken cancel) => _app.WaitForShutdownAsync(cancel);

    /// <summary>The embedded assets by path below <c>/assets/</c> (logical names <c>ui/...</c>): nothing else is served.</summary>
    private static readonly Dictionary<string, string> s_assets = typeof(UiServer).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("ui/", StringComparison.Ordinal))
        .ToDictionary(n => n["ui/".Length..].Replace('\\', '/'), n => n, StringComparer.Ordinal);

    /// <summary>An embedded asset's text (a card page inlines them).</summary>
    public static string ReadAsset(string path)
    {
        using var stream = typeof(UiServer).Assembly.GetManifestResourceStream(s_assets[path])!;
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static IResult Asset(string path)
    {
        if (!s_assets.TryGetValue(path, out var resource))
        {
            return UiApi.Error(StatusCodes.Status404NotFound, "no such asset");
        }
        var type = Path.GetExtension(path) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            _ => "text/plain; charset=utf-8",
        };
        return Results.Stream(typeof(UiServer).Assembly.GetManifestResourceStream(resource)!, type);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
