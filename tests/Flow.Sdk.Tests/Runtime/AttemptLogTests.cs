using System.IO.Abstractions;
using System.IO.Abstractions.TestingHelpers;
using Flow.Sdk.Datastore;
using Flow.Sdk.Runtime;
using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Runtime;

/// <summary>How an attempt's stdout and stderr are stored as the task prints.</summary>
[Collection(EnvironmentCollection.Name)] // one test replaces Console.Error
public sealed class AttemptLogTests
{
    private const string Dir = "/store/runs/F/1/steps/Start/1/0";

    [Fact]
    public void ATaskThatPrintsNothing_LeavesNoLogFiles_AndReadsAsEmpty()
    {
        var fs = new MockFileSystem();

        using (new AttemptLog(fs, Dir))
        {
        }

        (fs.Directory.Exists(Dir) ? fs.Directory.GetFiles(Dir) : []).ShouldBeEmpty();
        LogReader.ReadAll(fs, Dir).ShouldBeEmpty();
    }

    [Fact]
    public void EachStream_IsStoredInItsOwnFile_FromItsFirstLine()
    {
        var fs = new MockFileSystem();

        using (var log = new AttemptLog(fs, Dir))
        {
            log.Write(isError: true, "warning");
            fs.File.Exists(fs.Path.Combine(Dir, LogFormat.Stdout)).ShouldBeFalse();
            log.Write(isError: false, "one");
            log.Write(isError: false, "two");
        }

        LogReader.ReadAll(fs, Dir, stderr: false).Select(l => l.Text).ShouldBe(["one", "two"]);
        LogReader.ReadAll(fs, Dir, stdout: false).Select(l => l.Text).ShouldBe(["warning"]);
    }

    [Fact]
    public void ALogThatCannotBeWritten_DoesNotStopTheTasksOutput_AndTheOtherStreamIsStillStored()
    {
        // On the real disk: a directory where stdout.log should be cannot be opened for writing, even by root.
        var root = Directory.CreateTempSubdirectory("flow-log-").FullName;
        try
        {
            var fs = new FileSystem();
            Directory.CreateDirectory(Path.Combine(root, LogFormat.Stdout));
            var error = new StringWriter();
            var console = Console.Error;
            Console.SetError(error);
            try
            {
                using var log = new AttemptLog(fs, root);
                Should.NotThrow(() => log.Write(isError: false, "lost to the log, not to the console"));
                Should.NotThrow(() => log.Write(isError: false, "again"));
                log.Write(isError: true, "kept");
            }
            finally
            {
                Console.SetError(console);
            }

            error.ToString().Split('\n').Count(l => l.Contains("stdout log", StringComparison.Ordinal)).ShouldBe(1, "one note per stream, not one per line");
            LogReader.ReadAll(fs, root, stdout: false).Select(l => l.Text).ShouldBe(["kept"]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ANoteThatALogCannotBeWritten_GoesToTheStderrOfWhenTheLogWasOpened_NotToATeeThatWritesBackIntoIt()
    {
        // Under `step --logs` stderr is replaced by a tee into this very log after the log is opened; a note sent
        // through the tee would take the tee's lock while holding the log's, which another thread may hold the other
        // way round.
        var root = Directory.CreateTempSubdirectory("flow-log-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, LogFormat.Stdout));
            var real = new StringWriter();
            var teed = new StringWriter();
            var console = Console.Error;
            Console.SetError(real);
            try
            {
                using var log = new AttemptLog(new FileSystem(), root);
                Console.SetError(new LogTee(teed, line => log.Write(isError: true, line)));
                log.Write(isError: false, "cannot be stored");
            }
            finally
            {
                Console.SetError(console);
            }

            real.ToString().ShouldContain("stdout log");
            teed.ToString().ShouldBeEmpty();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
