#!/usr/bin/env bash
# Cost curves: wall time, CPU time and peak resident memory of parse, NDCG@10 evaluation, LambdaRank
# gradients, one MLP epoch and 100 lambdamart trees at 10^5, 10^6 and 10^7 rows (mslr-like), each stage at
# each size in its own process (CostCurves in Ranking.Benchmarks). Writes WORKDIR/cost-curves.tsv, a markdown
# table (cost-curves.md, with the log-log slope between sizes: 1 = linear) and log-log plots
# (cost-curves.png wall time, cost-curves-cpu.png CPU time, cost-curves-memory.png peak memory).
#
# Usage: benchmarks/cost-curves.sh [WORKDIR]         (default /tmp/ranking-cost-curves)
#   SIZES="100000 1000000 10000000"   rows per size (parse's file is generated with 1 query per ~117 rows)
#   STAGES="parse ndcg lambdarank mlp-epoch lambdamart-100"
#   MAX_ROWS_parse=..., MAX_ROWS_lambdamart_100=... : skip a stage above that many rows (e.g. on a slow machine)
#   RANKING=path/to/ranking BENCH=path/to/Ranking.Benchmarks : use these builds instead of building
# 10^7 rows x 136 floats is 5.4 GB: stages that hold features at 10^7 rows run under
# `flock /work/wt/bigrun.lock` when that lock file exists (the shared machine's rule for runs above 6 GB).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/ranking-cost-curves}
sizes=${SIZES:-100000 1000000 10000000}
stages=${STAGES:-parse ndcg lambdarank mlp-epoch lambdamart-100}
mkdir -p "$work"

# RANKING and BENCH name already-built executables (then nothing is built), e.g. copies kept aside.
ranking=${RANKING:-$repo/src/Ranking.Cli/bin/Release/net10.0/ranking}
bench=${BENCH:-$repo/benchmarks/Ranking.Benchmarks/bin/Release/net10.0/Ranking.Benchmarks}
if [ -z "${RANKING:-}${BENCH:-}" ]; then
    dotnet build "$repo/src/Ranking.Cli" -c Release -nologo -v q >/dev/null
    dotnet build "$repo/benchmarks/Ranking.Benchmarks" -c Release -nologo -v q >/dev/null
fi

tsv="$work/cost-curves.tsv"
[ -f "$tsv" ] || echo "# stage	rows	wall_s	cpu_s	peak_bytes" >"$tsv"
for rows in $sizes; do
    for stage in $stages; do
        limit_var="MAX_ROWS_${stage//-/_}"
        if [ -n "${!limit_var:-}" ] && [ "$rows" -gt "${!limit_var}" ]; then echo "skip $stage at $rows rows ($limit_var)"; continue; fi
        args=(cost-curve "$stage" "$rows")
        if [ "$stage" = parse ]; then
            file="$work/mslr-like-$rows.txt"
            # mslr-like queries hold ~117 rows on average (seed 1: 830 queries = 97,021 rows)
            [ -s "$file" ] || "$ranking" data generate --preset mslr-like --queries $(( (rows + 116) / 117 )) --seed 1 --out "$file" >/dev/null
            cat "$file" >/dev/null
            args+=("$file")
        fi
        lock=()
        if [ "$rows" -ge 10000000 ] && [ "$stage" != ndcg ] && [ "$stage" != lambdarank ] && [ -e /work/wt/bigrun.lock ]; then lock=(flock /work/wt/bigrun.lock); fi
        line=$("${lock[@]}" "$bench" "${args[@]}")
        echo "$line" | tee -a "$tsv"
    done
done
"$bench" cost-curve-report "$tsv" "$work"
echo "wrote $work/cost-curves.md and $work/cost-curves*.png"
