#!/usr/bin/env bash
# Builds gpu-bundle/ (git-ignored, < 60 MiB): everything a CUDA machine WITHOUT .NET and without network
# needs to run the GPU parity checks and the CPU-vs-GPU benchmarks:
#   gpu-bundle/ranking-gpu-bench.tar.xz   Release build of benchmarks/gpu/Ranking.GpuBench (framework-dependent)
#                                         + a copy of this machine's .NET runtime (dotnet host, hostfxr, Microsoft.NETCore.App)
#   gpu-bundle/run-on-device.sh           unpack, run, write results to $OUT
# Usage: benchmarks/gpu/package.sh        then carry gpu-bundle/ to the device and run gpu-bundle/run-on-device.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

out=gpu-bundle
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
rm -rf "$out"
mkdir -p "$out"

dotnet publish benchmarks/gpu/Ranking.GpuBench -c Release -o "$stage/app" --no-self-contained -p:UseAppHost=false -v quiet -nologo
rm -f "$stage"/app/*.pdb

# The runtime the app was built for, copied from the local .NET install (no download).
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" && $2 ~ /^10\./ {print $2}' | sort -V | tail -1)
fxr=$(ls "$dotnet_root/host/fxr" | sort -V | tail -1)
[ -n "$runtime" ] && [ -d "$dotnet_root/shared/Microsoft.NETCore.App/$runtime" ] || { echo "no .NET 10 runtime under $dotnet_root" >&2; exit 1; }
mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/dotnet/host/fxr"
cp "$dotnet_root/dotnet" "$stage/dotnet/"
cp -r "$dotnet_root/host/fxr/$fxr" "$stage/dotnet/host/fxr/"
cp -r "$dotnet_root/shared/Microsoft.NETCore.App/$runtime" "$stage/dotnet/shared/Microsoft.NETCore.App/"

tar -C "$stage" -cf - app dotnet | xz -T0 -4 > "$out/ranking-gpu-bench.tar.xz"
cp benchmarks/gpu/run-on-device.sh "$out/run-on-device.sh"
chmod +x "$out/run-on-device.sh"
echo "runtime $runtime, hostfxr $fxr"
du -sh "$out" "$out"/*
