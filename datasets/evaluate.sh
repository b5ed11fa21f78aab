#!/usr/bin/env bash
# The standard evaluation matrix: every ranker of the matrix x every fold of a dataset -> one report
# (report.md, results.json, plots, predictions) via `ranking compare --folds`.
#
#   datasets/evaluate.sh mq2008 [compare options...]     a catalogue dataset (fetched; prepared here if needed);
#                                                        e.g. --backend auto trains and evaluates on a GPU when present
#   datasets/evaluate.sh path/to/folds [options...]      any folder of Fold1..FoldK (train/vali/test .rkds or .txt)
#   datasets/evaluate.sh synthetic [options...]          5 rotated folds of seeded synthetic data, generated here
#
# Environment: RANKERS (comma list, or "all" = every named ranker of the catalog; default below),
# OUT (report folder, default ./evaluation-NAME), THREADS (default 1: LightGBM's OpenMP workers spin-wait, which
# on a busy small machine costs far more than parallelism gains on sets this size), RANKING_DATASETS (data root),
# MQ2008 (where an unfetched mq2008 is copied from; default ../shared/datasets/mq2008 beside the repository).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
name="${1:?usage: datasets/evaluate.sh NAME|DIR|synthetic [ranking compare options...]}"
shift

# The default matrix: the tree rankers and one MLP/linear ranker per classic objective (12 rankers).
RANKERS="${RANKERS:-lambdamart,gbdt-xendcg,lambdamart-fasttree,ranknet,lambdarank,listnet,listmle,approxndcg,softmax,ranksvm,pointwise,triplet}"
THREADS="${THREADS:-1}"
OUT="${OUT:-./evaluation-$(basename "$name")}"

dotnet build -c Release "$repo/src/Ranking.Cli" -nologo -v quiet >/dev/null
ranking() { dotnet "$repo/src/Ranking.Cli/bin/Release/net10.0/ranking.dll" "$@"; }

if [ "$name" = synthetic ]; then
  folds="$OUT/data"
  ranking datasets synthetic --out "$folds" --preset small --queries 500 --folds 5 --seed 42
elif [ -d "$name" ]; then
  folds="$name"
else
  root="${RANKING_DATASETS:-$HOME/.ranking/datasets}"
  if [ ! -d "$root/$name" ] && [ "$name" = mq2008 ]; then
    ranking datasets fetch mq2008 --from "${MQ2008:-$repo/../shared/datasets/mq2008}" --root "$root"
  fi
  ranking datasets prepare "$name" --root "$root"
  folds="$root/$name"
fi

ranking compare --folds "$folds" --rankers "$RANKERS" --threads "$THREADS" --out "$OUT" \
  --title "Evaluation matrix: $(basename "$name")" "$@"
