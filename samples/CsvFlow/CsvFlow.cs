using System.Globalization;
using Flow.Sdk;

namespace Samples;

/// <summary>One row of the movies file.</summary>
/// <param name="Title">The title.</param>
/// <param name="Year">The year it came out.</param>
/// <param name="Genre">Its genre.</param>
/// <param name="Gross">Its box office, in millions.</param>
public sealed record Movie(string Title, int Year, string Genre, double Gross);

/// <summary>A playlist from an included CSV file: the file's content is stored with the run, then parsed in a step.</summary>
/// <remarks>
/// A port of Metaflow's tutorial 01-playlist. <c>--data</c> names the file (default <c>movies.csv</c>, shipped
/// with the sample); the run keeps the content it read, so it stays reproducible after the file changes.
/// <c>--delimiter</c> says how the columns are separated.
/// </remarks>
public partial class CsvFlow : FlowSpec
{
    [IncludeFile("data", Default = "movies.csv", Help = "The movies: a CSV file with title, year, genre and gross columns")]
    public string Data { get; init; } = "";

    [Parameter(Help = "What separates the columns of the CSV file")]
    public string Delimiter { get; init; } = ",";

    [Parameter(Help = "The genre of the playlist")]
    public string Genre { get; init; } = "Sci-Fi";

    [Parameter(Help = "How many movies the playlist holds")]
    public int Length { get; init; } = 3;

    /// <summary>Every movie of the file.</summary>
    public partial List<Movie> Movies { get; set; }

    /// <summary>How many movies the file has of each genre.</summary>
    public partial Dictionary<string, int> GenreCounts { get; set; }

    /// <summary>The titles of the playlist, highest gross first.</summary>
    public partial List<string> Playlist { get; set; }

    /// <summary>Parses the included text (read from the run, never from the file again).</summary>
    [Step]
    public void Start()
    {
        var lines = Data.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines[0].Split(Delimiter);
        int Column(string name) => Array.IndexOf(header, name) is >= 0 and var at
            ? at
            : throw new FormatException($"The CSV file has no '{name}' column (columns: {string.Join(" | ", header)}); is --delimiter right?");
        int title = Column("title"), year = Column("year"), genre = Column("genre"), gross = Column("gross");
        Movies = [.. lines.Skip(1).Select(line => line.Split(Delimiter)).Select(cells => new Movie(
            cells[title], int.Parse(cells[year], CultureInfo.InvariantCulture), cells[genre], double.Parse(cells[gross], CultureInfo.InvariantCulture)))];
        GenreCounts = Movies.GroupBy(m => m.Genre).ToDictionary(g => g.Key, g => g.Count());
        Console.WriteLine($"{Movies.Count} movies: {string.Join(", ", GenreCounts.Select(g => $"{g.Value} {g.Key}"))}");
        Next(MakePlaylist);
    }

    /// <summary>Picks the genre's movies with the highest gross.</summary>
    [Step]
    public void MakePlaylist()
    {
        Playlist = [.. Movies.Where(m => string.Equals(m.Genre, Genre, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(m => m.Gross).Take(Length).Select(m => m.Title)];
        Next(End);
    }

    /// <summary>Prints the playlist.</summary>
    [Step]
    public void End()
    {
        Console.WriteLine($"Playlist of {Genre}:");
        for (var i = 0; i < Playlist.Count; i++)
        {
            Console.WriteLine($"  {i + 1}. {Playlist[i]}");
        }
    }
}
