#!/usr/bin/env bash
# Runs on the CUDA machine (no .NET, no network needed), from the repository root or anywhere:
#   gpu-bundle/run-on-device.sh            (OUT=folder for results; default ./gpu-results)
# 1. unpacks the bundle beside it into a temp folder; 2. makes the CUDA driver library findable
# (ILGPU opens "libcuda.so"; drivers often ship only libcuda.so.1); 3. runs the parity checks of every
# kernel on the GPU against the CPU path (PASS/FAIL lines), then the CPU-vs-GPU benchmarks at 100k, 1M
# and 10M rows, then the long-query workload (LONG=rows:length, default 1M rows in queries of 100k; none
# skips it): NDCG@10 and LambdaRank with sorted ranks against counted ranks; then metric learning's batch losses
# (SupCon, semi-hard triplet) at EMB batch sizes (default 256,1024,4096,8192; none skips) and SupCon with a
# 65,536-entry cross-batch memory, each checked against the CPU (1e-4) with samples/s on both. Then the user-facing
# training path end to end (EmbeddingTrainer.Train with the GPU backend, what `ranking embed train --backend gpu` runs):
# SupCon at EMBTRAIN=BATCH:MEMORY:BATCHES,... (default 8192:0:3,8192:65536:10; none skips), on the device and then on the
# CPU (EMB_CPU_THREADS, default all cores), compared to 1e-4, samples/s of each.
# Results: $OUT/gpu-run.log (everything), $OUT/gpu-benchmarks.md (the table), $OUT/embed-train.md (the training table), $OUT/nvidia-smi.txt.
# Finishes in under 11 minutes (the benchmark step is capped at 440 s, the training step at 150 s; tables are written as rows finish).
# A smoke run without a GPU: ACCEL=cpu ROWS=2000 LONG=none EMB=none EMBTRAIN=64:0:2,64:256:6 gpu-bundle/run-on-device.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$PWD/gpu-results}
mkdir -p "$OUT"
ROWS=${ROWS:-100000,1000000,10000000}   # ACCEL=best|cpu runs the same bundle without a GPU (a test)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
tar -C "$work" -xJf "$here/ranking-gpu-bench.tar.xz" || { echo "cannot unpack $here/ranking-gpu-bench.tar.xz (run benchmarks/gpu/package.sh first)" | tee "$OUT/gpu-run.log"; exit 2; }
export DOTNET_ROOT="$work/dotnet" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_gcServer=1 DOTNET_TieredPGO=1

if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so '; then
  lib=$( (ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 /{print $NF}'; ls /usr/local/nvidia/lib64/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib64/libcuda.so.1 /usr/local/cuda/compat/libcuda.so.1 2>/dev/null) | head -1)
  if [ -n "$lib" ]; then
    mkdir -p "$work/cudalib"
    ln -s "$lib" "$work/cudalib/libcuda.so"
    export LD_LIBRARY_PATH="$work/cudalib:$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  else
    echo "warning: libcuda.so.1 not found; ILGPU will not see the GPU" | tee -a "$OUT/gpu-run.log"
  fi
fi
(nvidia-smi || true) > "$OUT/nvidia-smi.txt" 2>&1

{
  echo "unpacked in $(( $(date +%s) - start )) s; rows: $ROWS"
  timeout 440 "$work/dotnet/dotnet" "$work/app/ranking-gpu-bench.dll" parity bench \
    --accelerator "${ACCEL:-cuda}" --rows "$ROWS" --cpu-threads 2 --repeats 5 --seconds-per-measurement 6 \
    --long-queries "${LONG:-1000000:100000}" --embedding-batches "${EMB:-256,1024,4096,8192}" --out "$OUT/gpu-benchmarks.md"
  echo "exit code $? after $(( $(date +%s) - start )) s"
  EMBTRAIN=${EMBTRAIN:-8192:0:3,8192:65536:10}
  if [ "$EMBTRAIN" != none ]; then
    timeout 150 "$work/dotnet/dotnet" "$work/app/ranking-gpu-bench.dll" embed-train \
      --accelerator "${ACCEL:-cuda}" --embed-train "$EMBTRAIN" --cpu-threads "${EMB_CPU_THREADS:--1}" --out "$OUT/embed-train.md"
    echo "embed-train exit code $? after $(( $(date +%s) - start )) s"
  fi
} 2>&1 | tee "$OUT/gpu-run.log"
