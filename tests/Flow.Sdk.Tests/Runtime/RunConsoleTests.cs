using Flow.Sdk.Runtime;

namespace Flow.Sdk.Tests.Runtime;

/// <summary>The progress summary's counts and estimate (RunConsole; what a terminal shows is in the end-to-end ProgressTests).</summary>
public sealed class RunConsoleTests
{
    [Fact]
    public void Summary_CountsEachStepsTasks_AndEstimatesTheTimeLeftOfAWideStep()
    {
        RunConsole.Configure(quiet: true, verboseTasks: false);
        try
        {
            for (var i = 0; i < 20; i++)
            {
                RunConsole.Queued("ProgressProbe");
            }
            for (var i = 0; i < 6; i++)
            {
                RunConsole.Started("ProgressProbe");
            }
            Thread.Sleep(20);
            RunConsole.Succeeded("ProgressProbe");
            RunConsole.Succeeded("ProgressProbe");
            RunConsole.Succeeded("ProgressProbe");
            RunConsole.Failed("ProgressProbe");
            RunConsole.Retried("ProgressProbe");
            RunConsole.Queued("ProgressProbe");

            var line = RunConsole.Summary().Single(l => l.TrimStart().StartsWith("ProgressProbe", StringComparison.Ordinal));

            line.ShouldMatch(@"^  ProgressProbe\s+3 done · 1 running · 1 failed · 15 queued   about \d+\.\d s left$");
            RunConsole.Summary()[^1].ShouldStartWith("  elapsed ");
        }
        finally
        {
            RunConsole.Configure(quiet: false, verboseTasks: true);
        }
    }
}
