#!/usr/bin/env bash
# Learning from clicks on `mslr-like` (issue 15): the runs behind README's "Learning from clicks" tables.
#
#   datasets/clicks-ultr.sh [OUT]        default OUT=./clicks-ultr
#
# 1. OUT/deterministic: the issue's protocol (the production ranker's deterministic top 10), learning curve
#    10^3..10^6 sessions, per-session and per-query click sets, and the infinite-data limits (logged rows, all rows).
# 2. OUT/plackett-luce: the same with a stochastic production ranker (Plackett-Luce, temperature 1) and the
#    per-query naive / IPW / policy-aware IPW estimators (true and swap-estimated propensities), paired tests.
# 3. OUT/compare: `ranking compare --simulate-clicks` on the same 300 queries written to files (the compare
#    tables and paired tests), 10^6 sessions, Plackett-Luce temperature 1.
# PBM eta=1, top 10, noise 0.1/1.0, production ranker from 1% of the training queries, seed 42, 2 threads.
# Each run stays under ~1 GB resident; under 10 minutes each on an idle 2-core machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
OUT="${1:-./clicks-ultr}"
mkdir -p "$OUT"

dotnet build -c Release "$repo/src/Ranking.Cli" -nologo -v quiet >/dev/null
ranking() { dotnet "$repo/src/Ranking.Cli/bin/Release/net10.0/ranking.dll" "$@"; }

common=(--synthetic mslr-like --queries 300 --sessions 1000,10000,100000,1000000 --epochs 15 --trees 50
        --pipeline log1p,zscore --threads 2 --curve-only)
ranking clicks experiment "${common[@]}" --out "$OUT/deterministic" > "$OUT/deterministic.md"
ranking clicks experiment "${common[@]}" --click-sets query --production-temperature 1 --out "$OUT/plackett-luce" > "$OUT/plackett-luce.md"

ranking data generate --preset mslr-like --queries 300 --seed 42 --split --out "$OUT/data/mslr-like.rkds" > /dev/null
ranking compare --train "$OUT/data/mslr-like.train.rkds" --test "$OUT/data/mslr-like.test.rkds" \
    --simulate-clicks 1000000 --production-temperature 1 --pipeline log1p,zscore --iterations 50 --threads 2 \
    --rankers production,naive-linear,ipw-linear,policy-aware-linear,naive-gbdt,ipw-gbdt,policy-aware-gbdt,skyline-lambdamart \
    --out "$OUT/compare" > "$OUT/compare.md"
echo "reports: $OUT/deterministic.md $OUT/plackett-luce.md $OUT/compare.md"
