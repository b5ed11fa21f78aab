#!/usr/bin/env bash
# LightGBM lambdarank, native (`--ranker lambdamart`) against our LambdaRank gradients fed to LightGBM
# (`--objective lambdarank --model gbdt`, the custom-objective path), on an idle machine and with one core
# busy with an unrelated process (a burner this script starts and stops: `yes > /dev/null`), native and
# custom back to back in every round. Reports the median wall time of each and the ratio custom / native
# (target: <= 1.2 under load), and how much each slows down under load.
#
# Usage: benchmarks/under-load.sh [WORKDIR]     (default /tmp/ranking-under-load)
# Both use truncation 30 (the default of each).
#   QUERIES=830 (mslr-like, 97k rows), TREES=50, ROUNDS=3, THREADS=-1 (--threads; -1 = every core, the default)
#   RANKING=path/to/ranking: time this build instead of building src/Ranking.Cli.
#   BURNERS=1 (processes started for the loaded phase)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/ranking-under-load}
queries=${QUERIES:-830}
trees=${TREES:-50}
rounds=${ROUNDS:-3}
threads=${THREADS:--1}
burners=${BURNERS:-1}
mkdir -p "$work"

# RANKING names an already-built executable (then nothing is built).
ranking=${RANKING:-$repo/src/Ranking.Cli/bin/Release/net10.0/ranking}
[ -n "${RANKING:-}" ] || dotnet build "$repo/src/Ranking.Cli" -c Release -nologo -v q >/dev/null
data="$work/mslr-like-${queries}q.txt"
[ -s "$data" ] || "$ranking" data generate --preset mslr-like --queries "$queries" --seed 1 --out "$data" >/dev/null
# The parse is the same for both paths: time training from the binary cache.
[ -s "$data.rkds" ] || "$ranking" data convert "$data" "$data.rkds" >/dev/null

burner_pids=()
stop_burners() { for pid in "${burner_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; burner_pids=(); }
trap stop_burners EXIT

common=(--train "$data.rkds" --pipeline none --epochs "$trees" --threads "$threads" --seed 1)
: >"$work/runs.txt"
run() {
    local phase=$1 name=$2; shift 2
    /usr/bin/time -o "$work/time.txt" -f "%e %U %S" "$ranking" train "${common[@]}" "$@" --out "$work/$name.rkm" >/dev/null 2>"$work/stderr.txt" \
        || { cat "$work/stderr.txt" >&2; exit 1; }
    read -r wall user sys <"$work/time.txt"
    echo "$phase $name $wall $user $sys" >>"$work/runs.txt"
    printf '%-6s %-7s wall %7.2f s  cpu %7.2f s\n' "$phase" "$name" "$wall" "$(echo "$user + $sys" | bc)"
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
wall() { awk -v p="$1" -v n="$2" '$1 == p && $2 == n { print $3 }' "$work/runs.txt" | median; }

for phase in idle loaded; do
    if [ $phase = loaded ]; then
        for _ in $(seq "$burners"); do yes >/dev/null & burner_pids+=($!); done
        sleep 1
    fi
    for _ in $(seq "$rounds"); do
        run $phase native --ranker lambdamart
        run $phase custom --objective lambdarank --model gbdt
    done
    stop_burners
done

echo "== $(nproc) cores, $trees trees, --threads $threads, $rounds rounds; medians of wall time"
for phase in idle loaded; do
    n=$(wall $phase native); c=$(wall $phase custom)
    echo "$phase: native $n s, custom $c s, custom / native $(echo "scale=2; $c / $n" | bc)"
done
echo "slow-down under load: native $(echo "scale=2; $(wall loaded native) / $(wall idle native)" | bc)x, custom $(echo "scale=2; $(wall loaded custom) / $(wall idle custom)" | bc)x"
