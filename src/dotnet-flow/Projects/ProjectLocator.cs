using System.IO.Abstractions;
using Flow.Sdk;

namespace Flow.Cli.Projects;

/// <summary>Finds the flow project a command is about: <c>--project</c> (a file or a folder), else the current folder.</summary>
internal static class ProjectLocator
{
    public static string Locate(IFileSystem fs, string? project, string workingDirectory)
    {
        var path = fs.Path.GetFullPath(project ?? workingDirectory, workingDirectory);
        if (fs.File.Exists(path))
        {
            if (!path.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase))
            {
                throw new FlowException($"{path} is not a C# project file (.csproj); pass the project file or its folder to --project.");
            }
            return path;
        }
        if (!fs.Directory.Exists(path))
        {
            throw new FlowException($"No such project or folder: {path}; pass an existing project to --project.");
        }
        string[] candidates;
        try
        {
            candidates = fs.Directory.GetFiles(path, "*.csproj");
        }
        catch (UnauthorizedAccessException)
        {
            throw new FlowException($"Cannot look for a project in {path}: this user may not read that folder; fix its permissions or pass the project file to --project.");
        }
        return candidates.Length switch
        {
            1 => candidates[0],
            0 => throw new FlowException($"No flow project in {path}: run inside a project folder (one with a .csproj; create one with 'dotnet new flow') or pass --project PATH."),
            _ => throw new FlowException($"Several projects in {path} ({string.Join(", ", candidates.Select(fs.Path.GetFileName))}); choose one with --project."),
        };
    }
}
