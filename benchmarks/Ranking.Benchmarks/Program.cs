using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*'
// BenchmarkDotNet refuses Debug builds (and still exits 0): always pass -c Release and read the output.
BenchmarkSwitcher.FromAssembly(typeof(Ranking.Benchmarks.BenchmarkData).Assembly).Run(args);
