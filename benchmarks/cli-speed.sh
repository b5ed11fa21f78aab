#!/usr/bin/env bash
# Command-line parse speed, as a user times it: `ranking data stats FILE`, the built executable
# (src/Ranking.Cli/bin/Release/net10.0/ranking, not `dotnet run`, which adds build checks), wall time including
# process start-up, against scikit-learn's load_svmlight_file on the same file, back to back in each round.
#   1. a 100k-row mslr-like file (830 queries, seed 1: 97,021 rows x 136 features, 126 MB): ours vs sklearn;
#   2. a multi-GB mslr-like file (BIG_QUERIES, default 20,000 queries = 2.4M rows, 3.1 GB): ours, MB/s.
# Both files are read once before timing, so every run reads from the page cache.
#
# Usage: benchmarks/cli-speed.sh [WORKDIR]      (default /tmp/ranking-cli-speed; the files are kept there)
#   ROUNDS=5 (100k-row rounds), BIG_ROUNDS=3, BIG_QUERIES=20000 (0 = skip the big file), THREADS=-1 (--threads).
#   RANKING=path/to/ranking: time this build instead of building src/Ranking.Cli.
# Needs scikit-learn for step 1 (Debian: apt-get install python3-sklearn; PYTHON=/usr/bin/python3 by default).
# Prints one line per run and a summary of medians; meant for an idle machine (on a shared one, read the ratio).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/ranking-cli-speed}
rounds=${ROUNDS:-5}
big_rounds=${BIG_ROUNDS:-3}
big_queries=${BIG_QUERIES:-20000}
threads=${THREADS:--1}
python=${PYTHON:-/usr/bin/python3}
mkdir -p "$work"

# RANKING names an already-built executable (then nothing is built).
ranking=${RANKING:-$repo/src/Ranking.Cli/bin/Release/net10.0/ranking}
[ -n "${RANKING:-}" ] || dotnet build "$repo/src/Ranking.Cli" -c Release -nologo -v q >/dev/null

small="$work/mslr-like-830q.txt"
[ -s "$small" ] || "$ranking" data generate --preset mslr-like --queries 830 --seed 1 --out "$small" >/dev/null
cat "$small" >/dev/null

# run NAME CMD...: one timed run, appends "NAME wall user sys maxrss_kb" to $work/runs.txt
run() {
    local name=$1; shift
    /usr/bin/time -o "$work/time.txt" -f "%e %U %S %M" "$@" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; exit 1; }
    read -r wall user sys rss <"$work/time.txt"
    echo "$name $wall $user $sys $rss" >>"$work/runs.txt"
    printf '%-8s wall %6.2f s  cpu %6.2f s  peak %5d MB\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024))
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/runs.txt"; }
cpu() { awk -v n="$1" '$1 == n { print $3 + $4 }' "$work/runs.txt"; }

: >"$work/runs.txt"
have_sklearn=1
"$python" -c 'import sklearn.datasets' 2>/dev/null || { have_sklearn=0; echo "no scikit-learn under $python: step 1 times ours only" >&2; }
size=$(stat -c %s "$small")
echo "== $small ($((size / 1000000)) MB), $rounds rounds, ours then sklearn in each"
for _ in $(seq "$rounds"); do
    run ours "$ranking" data stats "$small" --threads "$threads"
    [ $have_sklearn = 1 ] && run sklearn "$python" -c 'import sys; from sklearn.datasets import load_svmlight_file; load_svmlight_file(sys.argv[1], query_id=True)' "$small"
done
ours_wall=$(col ours 2 | median)
echo "ours: median wall $ours_wall s, cpu $(cpu ours | median) s, $(echo "$size / $ours_wall / 1000000" | bc) MB/s including start-up"
if [ $have_sklearn = 1 ]; then
    sk_wall=$(col sklearn 2 | median)
    echo "sklearn load_svmlight_file: median wall $sk_wall s, cpu $(cpu sklearn | median) s"
    echo "ratio sklearn / ours, wall: $(echo "scale=1; $sk_wall / $ours_wall" | bc)x (target >= 10x); cpu: $(echo "scale=1; $(cpu sklearn | median) / $(cpu ours | median)" | bc)x"
fi

if [ "$big_queries" -gt 0 ]; then
    big="$work/mslr-like-${big_queries}q.txt"
    [ -s "$big" ] || "$ranking" data generate --preset mslr-like --queries "$big_queries" --seed 1 --out "$big" >/dev/null
    cat "$big" >/dev/null
    size=$(stat -c %s "$big")
    echo "== $big ($((size / 1000000)) MB), $big_rounds rounds"
    for _ in $(seq "$big_rounds"); do run big "$ranking" data stats "$big" --threads "$threads"; done
    big_wall=$(col big 2 | median)
    echo "big: median wall $big_wall s = $(echo "$size / $big_wall / 1000000" | bc) MB/s (target >= 300 MB/s on 2 cores), cpu $(cpu big | median) s, peak $(( $(col big 5 | median | cut -d. -f1) / 1024 )) MB"
fi
