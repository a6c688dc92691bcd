#!/usr/bin/env bash
# The odometry's figures against KISS-ICP on one machine, runs alternated so both see the
# same load: wall and CPU time, peak RSS (medians over ROUNDS), the wall-time ratio, per-scan
# p95, ATE / RPE per scan from ../shared/bench/score.sh, and how far both trajectories are
# from balm's scans registered directly onto scan 0 (reference-fit.py anchor, about 4
# minutes; balm's reference drifts). Then riverside02's peak RSS and drift over its first
# 160 and 167 scans (the reference breaks at 167): score.sh measures drift over 10-80 m
# segments for a path under 900 m (160 scans, 895 m) and over 100-800 m above (167 scans,
# 943 m); and scripts/reference-fit.py's check of those 167 reference poses against the scans
# (steps whose reference pose the scans do not hold, and the drift over segments spanning
# none of them).
#   scripts/bench-vs-kiss.sh [ROUNDS]          (default 7; needs ../shared/bench/setup-peers.sh)
set -euo pipefail
ROUNDS=${1:-7}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$(cd "$ROOT/../shared" && pwd)
BALM=$SHARED/datasets/balm-realworld
RIVER=$SHARED/datasets/mulran-riverside02-keyframes
for d in "$BALM" "$RIVER"; do [ -d "$d" ] || { echo "missing dataset folder $d" >&2; exit 2; }; done
command -v /usr/bin/time > /dev/null || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }
cargo build --quiet --release --no-default-features --example odometry --manifest-path "$ROOT/Cargo.toml"
ODO=$ROOT/target/release/examples/odometry
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$ROUNDS"); do
  /usr/bin/time -f "ours %e %U %M" -a -o "$tmp/times" "$ODO" "$BALM" --out "$tmp/ours" > /dev/null 2>&1
  /usr/bin/time -f "kiss %e %U %M" -a -o "$tmp/times" \
    "$SHARED/bench/kiss.sh" "$BALM/velodyne" "$tmp/kiss.txt" > /dev/null 2>&1
  echo "round $i of $ROUNDS done" >&2
done
score() { "$SHARED/bench/score.sh" "$1" "$2" | tail -1; }
echo "balm ours: $(score "$BALM/poses.txt" "$tmp/ours/trajectory_kitti.txt")"
echo "balm kiss: $(score "$BALM/poses.txt" "$tmp/kiss.txt")"
VENV=${PEERS_VENV:-$HOME/.cache/lidar-peers-venv}
PY=python3; [ -x "$VENV/bin/python" ] && PY="$VENV/bin/python"
# balm's reference drifts: each trajectory against every scan registered straight onto scan 0.
cp "$tmp/ours/trajectory_kitti.txt" "$tmp/lidarflow.txt"
"$PY" "$ROOT/scripts/reference-fit.py" anchor "$BALM" "$BALM/poses.txt" "$tmp/lidarflow.txt" \
  "$tmp/kiss.txt" | tail -1
python3 - "$tmp/times" "$tmp/ours/summary.json" <<'PY'
import json, statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith(("ours", "kiss"))]
med = {}
for who in ("ours", "kiss"):
    r = [x for x in rows if x[0] == who]
    wall = st.median(float(x[1]) for x in r)
    med[who] = wall
    print(f"balm {who}: wall {wall:.2f} s (runs {sorted(float(x[1]) for x in r)}), "
          f"CPU {st.median(float(x[2]) for x in r):.2f} s, "
          f"peak RSS {st.median(int(x[3]) for x in r) / 1024:.0f} MB")
print(f"balm wall-time ratio ours / KISS-ICP: {med['ours'] / med['kiss']:.2f}")
s = json.load(open(sys.argv[2]))
print(f"balm per scan (last run): p95 {s['per_scan_ms']['p95']:.1f} ms, "
      f"stage means {[round(x, 2) for x in s['stage_mean_ms']]} ms")
PY
/usr/bin/time -f "%M" -o "$tmp/rss" "$ODO" "$RIVER" --out "$tmp/river" > /dev/null 2>&1
echo "riverside02: peak RSS $(( $(cat "$tmp/rss") / 1024 )) MB"
for n in 160 167; do
  head -"$n" "$RIVER/optimized_poses.txt" > "$tmp/ref"
  head -"$n" "$tmp/river/trajectory_kitti.txt" > "$tmp/est"
  echo "riverside02 first $n scans: $(score "$tmp/ref" "$tmp/est")"
done
"$PY" "$ROOT/scripts/reference-fit.py" steps "$RIVER" "$RIVER/optimized_poses.txt" \
  "$tmp/river/trajectory_kitti.txt" --scans 167 | tail -3
