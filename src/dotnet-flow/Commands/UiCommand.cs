using System.Diagnostics;
using System.IO.Abstractions;
using System.Net;
using Flow.Cli.Ui;
using Flow.Sdk;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary><c>dotnet flow ui</c>: serves the read-only web UI over the datastore until stopped (docs/ui.md).</summary>
[Command("ui", Description = "Serve a read-only web UI over the datastore on 127.0.0.1 (a free port unless --port) until Ctrl-C: flows, runs, graphs, timelines, artifacts and logs, live while runs execute.", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class UiCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : ProjectCommand(console, fs, cwd)
{
    [Option("--port <N>", Description = "The port (1-65535); default: a free one.")]
    public string? Port { get; set; }

    [Option("--host <ADDRESS>", Description = "The address to listen on; default 127.0.0.1 (this machine only). Another address lets others read every run.")]
    public string? Host { get; set; }

    [Option("--open", Description = "Open the UI in the default browser.")]
    public bool OpenBrowser { get; set; }

    /// <summary>Serves until Ctrl-C or SIGTERM (the server's host stops on either).</summary>
    public int OnExecute() => ServeAsync(CancellationToken.None).GetAwaiter().GetResult();

    private async Task<int> ServeAsync(CancellationToken cancel)
    {
        CheckUsage("ui");
        var port = 0;
        if (Port is not null && (!int.TryParse(Port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new FlowException($"--port '{InputChecks.Shorten(Port)}' is not a port: give a number from 1 to 65535, or leave it out for a free one.");
        }
        var host = IPAddress.Loopback;
        if (Host is not null)
        {
            if (!IPAddress.TryParse(Host, out host))
            {
                throw new FlowException($"--host '{InputChecks.Shorten(Host)}' is not an IP address: give one such as 127.0.0.1 (the default) or 0.0.0.0 (every interface).");
            }
            if (!IPAddress.IsLoopback(host))
            {
                Console.Error.WriteLine($"warning: listening on {host}: anyone who can reach this machine can read every run, artifact and log of the datastore.");
            }
        }
        var store = OpenStore();
        var client = FlowStore.Open(store.Root);
        client.Namespace = Namespace.Global;
        UiServer server;
        try
        {
            server = await UiServer.StartAsync(client, host, port, cancel);
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new FlowException($"Port {port} on {host} is in use: give another --port, or leave it out for a free one.");
        }
        await using (server)
        {
            Console.Out.WriteLine($"dotnet flow ui: {server.Address} (datastore {store.Root}); Ctrl-C stops it.");
            if (OpenBrowser)
            {
                Open(server.Address);
            }
            try
            {
                await server.WaitAsync(cancel);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return ExitCodes.Success;
    }

    private void Open(Uri address)
    {
        var opener = OperatingSystem.IsWindows() ? "explorer" : OperatingSystem.IsMacOS() ? "open" : "xdg-open";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(opener, address.ToString()) { UseShellExecute = false });
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Console.Error.WriteLine($"warning: could not open a browser ({opener}: {e.Message}); open {address} yourself.");
        }
    }
}
