using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Flow.Sdk;
using Microsoft.AspNetCore.Http;

namespace Flow.Cli.Ui;

/// <summary>
/// Server-sent events for one run's page: the run's detail whenever it changes, then <c>end</c> once the run has
/// ended. The detail is read again once a second, or less often when reading it takes long (a run of thousands of
/// tasks), so a page costs the datastore a bounded share of the time.
/// </summary>
internal static class RunEvents
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(1);

    public static async Task StreamAsync(HttpContext context, RunInfo run, Action<Utf8JsonWriter> detail, CancellationToken cancel)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        await response.Body.FlushAsync(cancel);
        byte[]? last = null;
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                var watch = Stopwatch.StartNew();
                var finished = run.Finished;
                var buffer = new MemoryStream();
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    detail(writer);
                }
                var now = buffer.ToArray();
                if (last is null || !now.AsSpan().SequenceEqual(last))
                {
                    last = now;
                    await Send(response, "run", now, cancel);
                }
                if (finished)
                {
                    await Send(response, "end", "{}"u8.ToArray(), cancel);
                    return;
                }
                var wait = watch.Elapsed * 3 > s_interval ? watch.Elapsed * 3 : s_interval;
                await Task.Delay(wait, cancel);
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away.
        }
    }

    private static async Task Send(HttpResponse response, string name, byte[] json, CancellationToken cancel)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes($"event: {name}\ndata: "), cancel);
        await response.Body.WriteAsync(json, cancel);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancel);
        await response.Body.FlushAsync(cancel);
    }
}
