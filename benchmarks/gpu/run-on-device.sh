#!/usr/bin/env bash
# Runs on the CUDA machine (no .NET, no network needed), from the repository root or anywhere:
#   gpu-bundle/run-on-device.sh            (OUT=folder for results; default ./gpu-results)
# 1. unpacks the bundle beside it into a temp folder; 2. makes the CUDA driver library findable
# (ILGPU opens "libcuda.so"; drivers often ship only libcuda.so.1); 3. runs the parity checks of every
# kernel on the GPU against the CPU path (PASS/FAIL lines), then the CPU-vs-GPU benchmarks at 100k, 1M
# and 10M rows, then the long-query workload (LONG=rows:length, default 1M rows in queries of 100k; none
# skips it): NDCG@10 and LambdaRank with sorted ranks against counted ranks; then metric learning's batch losses
# (SupCon, semi-hard triplet) at EMB batch sizes (default 256,1024,4096,8192; none skips) and SupCon with a
# 65,536-entry cross-batch memory, each checked against the CPU (1e-4) with samples/s on both. Results: $OUT/gpu-run.log (everything), $OUT/gpu-benchmarks.md (the table), $OUT/nvidia-smi.txt.
# Finishes in under 8 minutes (the benchmark step is capped at 420 s; the table is written after each size).
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
} 2>&1 | tee "$OUT/gpu-run.log"
