#!/usr/bin/env bash
# Issue 14's speed targets for metric learning, to be run on an idle machine (2 cores):
#   1. semi-hard mining >= 10x faster than enumerating all triplets: the Ratio column of SemiHardMiningBenchmarks
#      (baseline SemiHardByEnumeratingAllTriplets; SemiHardTripletRows does the same work through the sorted-window miner),
#      for the embeddings of the untrained encoder and of the encoder after one epoch's worth of batches (semihard-cases
#      prints how crowded the windows are in each);
#   2. MLP 784-256-128 + SupCon at batch 256 >= 30,000 samples/s: 256 / mean of SupConTrainingStep, and the
#      embed-step-breakdown lines (per phase, on all cores and on one thread);
#   3. evaluation of 10,000 x 60,000 at d = 128, k = 6,000 in < 30 s: embed-eval-time, and, when Debian's
#      dataset-fashion-mnist is installed, the CLI end to end (1-epoch SupCon model, encoding included).
# Usage: benchmarks/embedding-speed.sh [--quick]   (--quick skips BenchmarkDotNet and the CLI run)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/Ranking.Benchmarks -c Release -v q -nologo
bench="dotnet benchmarks/Ranking.Benchmarks/bin/Release/net10.0/Ranking.Benchmarks.dll"
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
if [[ "${1:-}" != "--quick" ]]; then
  echo "== 1. semi-hard mining vs enumerating all triplets (Ratio: lower is faster; 10x = 0.10)"
  $bench semihard-cases
  $bench --filter '*SemiHardMiningBenchmarks*' --job short --inProcess | grep -E '^\|'
  echo "== 2. SupCon training step at batch 256 (samples/s = 256 / Mean)"
  $bench --filter '*EmbeddingBenchmarks.SupConTrainingStep*' --job short --inProcess | grep -E '^\|'
fi
$bench embed-step-breakdown 200
$bench embed-step-breakdown 200 1
echo "== 3. evaluation, 10,000 x 60,000, d = 128, k = 6,000 (random unit vectors)"
$bench embed-eval-time 10000
fm=/usr/share/datasets/fashion-mnist
if [[ "${1:-}" != "--quick" && -f $fm/train-images-idx3-ubyte.gz ]]; then
  dotnet build src/Ranking.Cli -c Release -v q -nologo
  ranking="dotnet src/Ranking.Cli/bin/Release/net10.0/ranking.dll"
  TIMEFORMAT="%R s wall, %U s user CPU, %S s system"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "== SupCon, 1 epoch of Fashion-MNIST (samples/s per epoch in the JSON)"
  time $ranking embed train --data $fm/train-images-idx3-ubyte.gz --loss supcon --miner all \
      --epochs 1 --batch 256 --hidden 256 --dim 128 --lr 0.001 --seed 1 --out "$work/fm.rkm" --json | tail -c 600
  echo "== embed eval: Fashion-MNIST test (10,000) against train (60,000), d = 128, k = 6,000, encoding included"
  time $ranking embed eval --model "$work/fm.rkm" --data $fm/t10k-images-idx3-ubyte.gz \
      --references $fm/train-images-idx3-ubyte.gz --k 6000 --json
fi
