using System.Text;
using CsCheck;

namespace Ranking.Cli.Tests.Reliability;

/// <summary>
/// `ranking eval` on mutated data and scores files (byte flips, truncations, inserted junk): exit 0 or 2,
/// never 1 (an internal fault), one stderr line without a stack trace.
/// </summary>
public class EvalFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-evalfuzz-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Junk = ["nan", "inf", "-1", "40", "1e39", ":", "qid:", "\r", "\n", "\0", " ", "#", "\xEF\xBB\xBF", "9999999"];

    private static Gen<byte[]> Mutated(string seed) =>
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.Int[0, Junk.Length - 1], Gen.Byte).Array[1, 3].Select(ops =>
        {
            var bytes = new List<byte>(Encoding.UTF8.GetBytes(seed));
            foreach (var (op, at, junk, value) in ops)
            {
                int pos = at % (bytes.Count + 1);
                if (op == 0 && bytes.Count > 0) bytes[Math.Min(pos, bytes.Count - 1)] ^= (byte)(value | 1);
                else if (op == 1) bytes.RemoveRange(pos, bytes.Count - pos);
                else bytes.InsertRange(pos, Encoding.Latin1.GetBytes(Junk[junk]));
            }
            return bytes.ToArray();
        });

    [Fact]
    public void MutatedDataAndScoresGiveExit0Or2()
    {
        string data = Path.Combine(_dir, "data.txt"), scores = Path.Combine(_dir, "scores.txt");
        const string Data = "2 qid:1 1:0.5\n0 qid:1 1:0.1\n1 qid:2 1:0.3\n0 qid:2 1:0.9\n3 qid:3 1:1\n";
        const string Scores = "0.5\n0.1\n-2\n3\n1e30\n";
        foreach (string contract in new[] { "default", "xgboost", "lightgbm" })
            Gen.Select(Mutated(Data), Mutated(Scores)).Sample((d, s) =>
            {
                File.WriteAllBytes(data, d);
                File.WriteAllBytes(scores, s);
                var result = CliHarness.Run("eval", "--data", data, "--scores", scores, "--contract", contract, "--json", "--threads", "1", "--max-memory", "64M");
                string shown = $"exit {result.ExitCode}: {result.Stderr}\ndata: {Convert.ToBase64String(d)}\nscores: {Convert.ToBase64String(s)}";
                Assert.True(result.ExitCode is 0 or 2, shown);
                if (result.ExitCode == 2)
                {
                    Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                    Assert.DoesNotContain("   at ", result.Stderr);
                    Assert.Equal("", result.Stdout);
                }
            }, iter: 150, threads: 1);
    }
}
