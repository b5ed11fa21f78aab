using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ranking.Cli;

/// <summary>
/// The CLI's one JSON style: UTF-8 with relaxed escaping (names and messages stay readable), compact on stdout
/// with one trailing newline, indented in report files. Every command's --json goes through here.
/// </summary>
internal static class CliJson
{
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>Serializer options of the same style (for records serialized as they are, e.g. the dataset catalogue).</summary>
    public static JsonSerializerOptions SerializerOptions(bool indented, JsonNamingPolicy? naming = null)
        => new() { WriteIndented = indented, Encoder = Encoder, PropertyNamingPolicy = naming };

    /// <summary><paramref name="node"/> as text in the CLI's style.</summary>
    public static string Format(JsonNode node, bool indented = false) => Format(w => node.WriteTo(w), indented);

    /// <summary>What <paramref name="write"/> writes, as text in the CLI's style.</summary>
    public static string Format(Action<Utf8JsonWriter> write, bool indented = false)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = Encoder })) write(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Prints <paramref name="node"/> compactly to stdout, with one newline.</summary>
    public static void Print(JsonNode node) => Console.Out.Write(Format(node) + "\n");

    /// <summary>Prints what <paramref name="write"/> writes compactly to stdout, with one newline.</summary>
    public static void Print(Action<Utf8JsonWriter> write) => Console.Out.Write(Format(write) + "\n");
}
