#!/usr/bin/env bash
# Every ILGPU kernel of Ranking.Gpu compiled to PTX for an H200 (sm_90), here, without a GPU:
#   benchmarks/gpu/ptx.sh [DIR]     (default ./ptx)
# Writes DIR/<kernel>.ptx and DIR/summary.tsv (PTX size, virtual registers, bytes of local memory, unresolved
# calls). Read a kernel's PTX before spending device time on it: local memory means spilled arrays, and an
# unresolved `.extern .func` (e.g. Math.Log2) is rejected by the CUDA driver's JIT. Exit code 1 on any unresolved call.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-ptx}
dotnet run -c Release --project "$root/benchmarks/gpu/Ranking.GpuBench" -- ptx --ptx-out "$dir"
