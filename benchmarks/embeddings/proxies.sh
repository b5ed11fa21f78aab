#!/usr/bin/env bash
# Proxy losses on the many-class synthetic set: MAP@R on unseen classes of proxy-nca with sampled negatives
# against SupCon at the same epochs, and the cost of an epoch with the full softmax over every proxy against
# the sampled one (a ratio within one run; absolute times need an idle machine).
# Usage: benchmarks/embeddings/proxies.sh [OUT_DIR] [CLASSES]   (defaults: /tmp/embed-proxies, 20000 -> 10,000 training classes)
set -euo pipefail
out=${1:-/tmp/embed-proxies}
classes=${2:-20000}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
dotnet build "$root/src/Ranking.Cli" -c Release -v q -nologo >/dev/null
ranking() { dotnet "$root/src/Ranking.Cli/bin/Release/net10.0/ranking.dll" "$@"; }
ranking embed synth --classes "$classes" --items 6 --dim 32 --latent 8 --seed 1 --out "$out/syn"
train="$out/syn-train-images-idx2"; test="$out/syn-test-images-idx2"
# No --valid: an epoch's seconds are training only; the final model is evaluated once (leave-one-out on the unseen classes).
common=(--data "$train" --hidden 64 --dim 32 --epochs "${EPOCHS:-5}" --batch 64 --per-class 2 --lr 0.003 --seed 1 --json)
run() { # name, extra args...
  local name=$1; shift
  ranking embed train "${common[@]}" "$@" --out "$out/$name.rkm" > "$out/$name.json"
  ranking embed eval --model "$out/$name.rkm" --data "$test" --json > "$out/$name.eval.json"
  python3 - "$out/$name.json" "$out/$name.eval.json" "$name" <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); ev = [e for e in o["events"] if e["warning"] is None]
m = json.load(open(sys.argv[2]))
secs = [e["seconds"] for e in ev]
print(f'{sys.argv[3]:26s} MAP@R {m["map_at_r"]:.4f}  P@1 {m["precision_at_1"]:.4f}  training seconds/epoch {sum(secs)/len(secs):.2f}  final loss {ev[-1]["loss"]:.4f}', flush=True)
PY
}
run supcon --loss supcon --temperature 0.1
run proxy-nca-sampled-256 --loss proxy-nca --proxy-negatives 256 --temperature 0.5 --proxy-lr-scale 10
run proxy-nca-full --loss proxy-nca --proxy-negatives 0 --temperature 0.5 --proxy-lr-scale 10
run proxy-nce-sampled-256 --loss proxy-nce --proxy-negatives 256 --temperature 0.5 --proxy-lr-scale 10
run proxy-anchor-sampled-256 --loss proxy-anchor --proxy-negatives 256 --proxy-lr-scale 100
ranking embed eval --raw --data "$test" --json | python3 -c 'import json,sys; print("raw features                 MAP@R", round(json.load(sys.stdin)["map_at_r"], 4))'
