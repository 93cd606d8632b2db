using System.IO.Abstractions;
using Flow.Sdk.Datastore;

namespace Flow.Sdk.Tests.Datastore;

/// <summary>Atomic writes on the real disk: what they create, and that the first writer of a record wins.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("flow-atomic-").FullName;
    private readonly FileSystem _fs = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void AWrite_CreatesMissingTempAndTargetFolders_AndLeavesNoTempFile()
    {
        var tmp = Path.Combine(_root, "tmp");
        var final = Path.Combine(_root, "runs", "F", "1", "done.json");

        AtomicFile.WriteBytes(_fs, tmp, final, "{}"u8, overwrite: false).ShouldBeTrue();
        AtomicFile.WriteBytes(_fs, tmp, Path.Combine(_root, "runs", "F", "2", "done.json"), "[]"u8, overwrite: true).ShouldBeTrue();

        File.ReadAllText(final).ShouldBe("{}");
        File.ReadAllText(Path.Combine(_root, "runs", "F", "2", "done.json")).ShouldBe("[]");
        Directory.GetFiles(tmp).ShouldBeEmpty();
    }

    [Fact]
    public void WithoutOverwrite_TheFileThatExistsWins_AndTheTempFileGoes()
    {
        var tmp = Path.Combine(_root, "tmp");
        var final = Path.Combine(_root, "done.json");
        AtomicFile.WriteBytes(_fs, tmp, final, "first"u8, overwrite: false).ShouldBeTrue();

        AtomicFile.WriteBytes(_fs, tmp, final, "second"u8, overwrite: false).ShouldBeFalse();
        AtomicFile.WriteBytes(_fs, tmp, final, "third"u8, overwrite: true).ShouldBeTrue();

        File.ReadAllText(final).ShouldBe("third");
        Directory.GetFiles(tmp).ShouldBeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ATempFileGoneBeforeItsPublish_IsReportedWithTheFileItWasToBecome(bool overwrite)
    {
        var temp = Path.Combine(_root, "tmp", "0123456789abcdef0123456789abcdef");
        var final = Path.Combine(_root, "runs", "F", "1", "run.json");
        Directory.CreateDirectory(Path.GetDirectoryName(temp)!);

        var error = Should.Throw<FileNotFoundException>(() => AtomicFile.Publish(_fs, temp, final, overwrite));

        error.FileName.ShouldBe(temp);
        error.Message.ShouldContain(final);
        File.Exists(final).ShouldBeFalse();
    }
}
