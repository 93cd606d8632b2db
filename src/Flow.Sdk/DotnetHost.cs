namespace Flow.Sdk;

/// <summary>Finds the <c>dotnet</c> host that starts worker processes.</summary>
internal static class DotnetHost
{
    public static readonly string Path = Find();

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }
        if (Environment.ProcessPath is { } self && System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(System.IO.Path.Combine(root, "dotnet")))
        {
            return System.IO.Path.Combine(root, "dotnet");
        }
        var fromRuntime = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }
}
