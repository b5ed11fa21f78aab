#!/usr/bin/env bash
# Two towers for pair files (README "Two towers for pair files"): on the planted asymmetric relation of
# `ranking embed synth-pairs` (a query chooses the item nearest its latent point rotated by 90 degrees in each plane),
# held-out Recall@1 / Recall@10 / MRR of the chosen item among all items for
#   1. two towers vs one shared encoder vs raw features (one view, 8 features each), over seeds;
#   2. two towers with queries and items in different feature spaces and widths (10 and 6 features);
#   3. the log-Q correction: items with a Zipf popularity prior and a soft choice, ntxent vs sampled-softmax.
# Usage: benchmarks/embeddings/two-towers.sh [OUT_DIR] [SEEDS]   (defaults: /tmp/embed-two-towers, "1 2 3");
# SECTIONS="1 3" runs only those parts, EPOCHS=N changes the 20 epochs.
set -euo pipefail
out=${1:-/tmp/embed-two-towers}
seeds=${2:-1 2 3}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
dotnet build "$root/src/Ranking.Cli" -c Release -v q -nologo >/dev/null
ranking() { dotnet "$root/src/Ranking.Cli/bin/Release/net10.0/ranking.dll" "$@"; }
common=(--hidden 64 --dim 16 --batch 128 --epochs "${EPOCHS:-20}" --lr 0.003 --json)
temperature=0.1
report() { # label, eval json
  python3 - "$1" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[2]))
print(f'{sys.argv[1]:44s} Recall@1 {m["recall_at_1"]:.4f}  Recall@10 {m["recall_at_10"]:.4f}  MRR {m["mrr"]:.4f}', flush=True)
PY
}
run() { # prefix, name, seed, extra train args...
  local prefix=$1 name=$2 seed=$3; shift 3
  ranking embed train --pairs "$prefix-train.pairs" --queries "$prefix-queries.csv" --items "$prefix-items.csv" \
    "${common[@]}" --temperature "$temperature" --seed "$seed" "$@" --out "$out/$name.rkm" > "$out/$name.train.json"
  ranking embed eval --model "$out/$name.rkm" --pairs "$prefix-held-out.pairs" --queries "$prefix-queries.csv" --items "$prefix-items.csv" --json > "$out/$name.eval.json"
  report "$name" "$out/$name.eval.json"
}

sections=${SECTIONS:-1 2 3}
want() { [[ " $sections " == *" $1 "* ]]; }

want 1 && echo "1. planted relation, one view (200 items, 4,000 training / 1,000 held-out pairs; chance Recall@1 0.005)"
want 1 && for seed in $seeds; do
  ranking embed synth-pairs --items 200 --queries 5000 --held-out 0.2 --seed "$seed" --out "$out/one-view-$seed" >/dev/null
  p="$out/one-view-$seed"
  run "$p" "two-towers-seed$seed" "$seed" --loss ntxent
  run "$p" "shared-seed$seed" "$seed" --loss ntxent --towers 1
  ranking embed eval --raw --pairs "$p-held-out.pairs" --queries "$p-queries.csv" --items "$p-items.csv" --json > "$out/raw-seed$seed.eval.json"
  report "raw-seed$seed" "$out/raw-seed$seed.eval.json"
done

want 2 && echo "2. queries and items in different feature spaces (10 and 6 features)"
want 2 && for seed in $seeds; do
  ranking embed synth-pairs --items 200 --queries 5000 --held-out 0.2 --separate-views --query-features 10 --item-features 6 --seed "$seed" --out "$out/widths-$seed" >/dev/null
  run "$out/widths-$seed" "two-towers-widths-seed$seed" "$seed" --loss ntxent
done

want 3 && echo "3. log-Q: Zipf popularity 1.0, choice spread 1.0 (popular items chosen more, over-sampled as in-batch negatives)"
want 3 && for seed in $seeds; do
  p="$out/popular-$seed"
  ranking embed synth-pairs --items 200 --queries 5000 --held-out 0.2 --popularity 1.0 --choice-spread 1.0 --seed "$seed" --out "$p" >/dev/null
  python3 - "$p-train.pairs" "$p-held-out.pairs" <<'PY'
import collections, sys
def items(path): return [int(l.split()[1]) for l in open(path) if l.strip() and not l.startswith('#')]
ranked = [i for i, _ in collections.Counter(items(sys.argv[1])).most_common(10)]
held = items(sys.argv[2])
def recall(k): return sum(i in ranked[:k] for i in held) / len(held)
print(f'{"popularity only (training counts)":44s} Recall@1 {recall(1):.4f}  Recall@10 {recall(10):.4f}', flush=True)
PY
  # Cosine at temperature 0.1, and the unnormalised dot product (its norms can carry popularity) at temperature 1.
  for distance in cosine dot; do
    norm=(); temperature=0.1
    if [[ $distance == dot ]]; then norm=(--no-normalise); temperature=1; fi
    run "$p" "popular-ntxent-$distance-seed$seed" "$seed" --loss ntxent --distance "$distance" "${norm[@]}"
    run "$p" "popular-logq-$distance-seed$seed" "$seed" --loss sampled-softmax --distance "$distance" "${norm[@]}"
  done
  temperature=0.1
done
