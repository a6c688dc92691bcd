#!/usr/bin/env bash
# Compares `lidarflow eval` with evo (installed by ../shared/bench/setup-peers.sh) on one
# reference/estimate pair: ATE (origin and SE(3) aligned) and RPE per scan, RMSE each.
#   scripts/eval-vs-evo.sh REFERENCE ESTIMATE      (KITTI files, paired by line)
set -euo pipefail
VENV=${PEERS_VENV:-$HOME/.cache/lidar-peers-venv}
REF=$1; EST=$2
[ -x "$VENV/bin/evo_ape" ] || { echo "run ../shared/bench/setup-peers.sh first" >&2; exit 2; }
tmp=$(mktemp -d)
cargo run --quiet --release -- eval "$REF" "$EST" --json "$tmp/ours.json" > /dev/null
rmse() { "$@" 2>/dev/null | awk '/rmse/{print $2}'; }
evo=(
  "$(rmse "$VENV/bin/evo_ape" kitti "$REF" "$EST" --align_origin)"
  "$(rmse "$VENV/bin/evo_ape" kitti "$REF" "$EST" -a)"
  "$(rmse "$VENV/bin/evo_rpe" kitti "$REF" "$EST" --delta 1 --delta_unit f)"
)
python3 - "$tmp/ours.json" "${evo[@]}" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))
keys = ["ate_origin", "ate_se3", "rpe_translation"]
worst = 0.0
for k, e in zip(keys, sys.argv[2:]):
    o = ours[k]["rmse"]; d = abs(o - float(e)); worst = max(worst, d)
    print(f"{k:16} lidarflow {o:.6f}  evo {float(e):.6f}  |diff| {d:.1e}")
print("agree within 1e-4 m" if worst <= 1e-4 else "DISAGREE")
sys.exit(0 if worst <= 1e-4 else 1)
PY
rm -rf "$tmp"
