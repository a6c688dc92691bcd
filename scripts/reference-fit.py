#!/usr/bin/env python3
"""Does a reference trajectory agree with the scans it is meant to describe?

The datasets' reference poses are other systems' estimates, not survey ground truth. This
checks them against the scans themselves, independently of lidarflow's code (numpy and scipy
only; the peers venv of ../shared/bench/setup-peers.sh has both):

  reference-fit.py steps DATASET REFERENCE ESTIMATE [--scans N]
      For each consecutive pair of scans: the fraction of scan i's points within 0.3 m of
      scan i-1's once placed by the reference's relative pose, and by the estimate's. Where
      they differ, a plain point-to-plane ICP (this file's) starts from the reference's
      relative pose (icp_moved: how far it went; icp-est: how far it ended from the
      estimate's); a step is flagged when that ICP moves by more than max(0.3 m, 2 % of
      the step) or 0.5 deg, i.e. the scans do not hold the reference's pose. Then the
      KITTI-style drift of the estimate (segments as ../shared/bench/score.py chooses them),
      over all segments and over those that span no flagged step.
  reference-fit.py chain DATASET REFERENCE FIRST LAST STEP
      Chains the same ICP scan to scan from FIRST to LAST every STEP scans, each pair started
      from the reference's relative pose, and prints where the chain ends against the
      reference's pose of LAST: an estimate of the reference's own drift over the stretch
      (plus the chain's random error, about 1 cm a link on balm-realworld).
  reference-fit.py anchor DATASET REFERENCE ESTIMATE [ESTIMATE ...] [--anchor K] [--min-fit F]
      Registers every scan directly into scan K (default 0): no chain, so nothing accumulates.
      The ICP starts from the reference's relative pose and again from each estimate's (each
      estimate placed on the reference at K); where the starts end more than 5 cm apart, or
      fewer than F (default 0.3) of the scan's points land within 0.3 m of scan K, the scan
      is left out. Prints how far the reference and each estimate are from the direct
      registrations, per scan and as RMS over the scans kept.

DATASET holds velodyne/*.bin (KITTI float32 x y z i) or scans/*.pcd (binary PCD with float x y z
fields). REFERENCE and ESTIMATE are KITTI 3x4 pose files, one line per scan.
"""
import argparse
import glob
import os
import sys

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

FIT_DISTANCE = 0.3


def load_poses(path):
    rows = np.loadtxt(path, ndmin=2)
    if rows.shape[1] != 12:
        sys.exit(f"{path}: expected 12 numbers a line (KITTI 3x4), found {rows.shape[1]}")
    poses = np.tile(np.eye(4), (len(rows), 1, 1))
    poses[:, :3, :] = rows.reshape(-1, 3, 4)
    return poses


def scan_files(dataset):
    for pattern in ("velodyne/*.bin", "scans/*.pcd", "*.bin", "*.pcd"):
        files = sorted(glob.glob(os.path.join(dataset, pattern)))
        if files:
            return files
    sys.exit(f"{dataset}: no velodyne/*.bin or scans/*.pcd")


def read_pcd(path):
    data = open(path, "rb").read()
    marker = data.find(b"\nDATA ")
    if marker < 0:
        sys.exit(f"{path}: no DATA line")
    end = data.index(b"\n", marker + 1)
    header = {}
    for line in data[:marker].decode("ascii", "replace").splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            header[parts[0].upper()] = parts[1:]
    if data[marker + 6:end].strip() != b"binary":
        sys.exit(f"{path}: only binary PCD is read here")
    fields, sizes, types = header["FIELDS"], header["SIZE"], header["TYPE"]
    counts = header.get("COUNT", ["1"] * len(fields))
    dtype = []
    for name, size, kind, count in zip(fields, sizes, types, counts):
        code = {"F": "f", "I": "i", "U": "u"}[kind] + size
        dtype.append((name if name != "_" else f"_{len(dtype)}", "<" + code, (int(count),)))
    points = int(header["POINTS"][0])
    table = np.frombuffer(data[end + 1:], dtype=np.dtype(dtype), count=points)
    return np.stack([table[c][:, 0] for c in ("x", "y", "z")], 1).astype(float)


def read_scan(path):
    if path.endswith(".bin"):
        xyz = np.fromfile(path, np.float32).reshape(-1, 4)[:, :3].astype(float)
    else:
        xyz = read_pcd(path)
    xyz = xyz[np.isfinite(xyz).all(1)]
    return xyz[np.linalg.norm(xyz, axis=1) > 1.0]


def downsample(xyz, voxel):
    _, first = np.unique(np.floor(xyz / voxel).astype(np.int64), axis=0, return_index=True)
    return xyz[np.sort(first)]


def fit(tree, xyz, relative):
    distances, _ = tree.query(xyz @ relative[:3, :3].T + relative[:3, 3])
    return float(np.mean(distances < FIT_DISTANCE))


def icp(target, tree, source, relative, thresholds, flatness):
    """Point-to-plane ICP of source into target from `relative`, shrinking its match distance
    through `thresholds`; only target points whose smallest local eigenvalue is below
    `flatness` times the middle one (planar) are matched. None when fewer than 10 match."""
    _, neighbours = tree.query(target, 10)
    local = target[neighbours] - target[neighbours].mean(1, keepdims=True)
    values, vectors = np.linalg.eigh(np.einsum("nki,nkj->nij", local, local))
    normals = vectors[:, :, 0]
    planar = values[:, 0] < flatness * np.maximum(values[:, 1], 1e-12)
    for threshold in thresholds:
        for _ in range(15):
            moved = source @ relative[:3, :3].T + relative[:3, 3]
            distances, index = tree.query(moved)
            keep = (distances < threshold) & planar[index]
            if keep.sum() < 10:
                return None
            n, p = normals[index[keep]], moved[keep]
            r = np.einsum("ij,ij->i", p - target[index[keep]], n)
            jac = np.hstack([np.cross(p, n), n])
            x = -np.linalg.solve(jac.T @ jac + 1e-9 * np.eye(6), jac.T @ r)
            step = np.eye(4)
            step[:3, :3] = Rotation.from_rotvec(x[:3]).as_matrix()
            step[:3, 3] = x[3:]
            relative = step @ relative
    return relative


def between(poses, i, j):
    return np.linalg.inv(poses[i]) @ poses[j]


def difference(a, b):
    d = np.linalg.inv(a) @ b
    return np.linalg.norm(d[:3, 3]), np.degrees(np.linalg.norm(Rotation.from_matrix(d[:3, :3]).as_rotvec()))


def drift(reference, estimate, excluded):
    """KITTI-style mean translational error (%), segments as score.py picks them."""
    steps = np.linalg.norm(np.diff(reference[:, :3, 3], axis=0), axis=1)
    dist = np.concatenate([[0], np.cumsum(steps)])
    lengths = range(100, 900, 100) if dist[-1] > 900 else range(10, 90, 10)
    errors = []
    for i in range(len(reference)):
        for length in lengths:
            j = np.searchsorted(dist, dist[i] + length)
            if j >= len(reference) or any(i < k <= j for k in excluded):
                continue
            e = np.linalg.inv(between(reference, i, j)) @ between(estimate, i, j)
            errors.append(np.linalg.norm(e[:3, 3]) / length)
    return (100 * float(np.mean(errors)) if errors else float("nan")), len(errors), list(lengths)


def steps(args):
    files = scan_files(args.dataset)
    reference, estimate = load_poses(args.reference), load_poses(args.estimate)
    n = min(len(files), len(reference), len(estimate), args.scans or len(files))
    reference, estimate = reference[:n], estimate[:n]
    flagged = []
    previous = read_scan(files[0])
    print("step  length_m  fit_ref  fit_est  est-ref_m  icp_moved_m/deg  icp-est_m  flagged")
    for i in range(1, n):
        current = read_scan(files[i])
        target, source = downsample(previous, 0.1), downsample(current, 0.2)
        tree = cKDTree(target)
        by_ref, by_est = between(reference, i - 1, i), between(estimate, i - 1, i)
        fit_ref, fit_est = fit(tree, source, by_ref), fit(tree, source, by_est)
        apart, _ = difference(by_ref, by_est)
        length = np.linalg.norm(by_ref[:3, 3])
        if abs(fit_ref - fit_est) > 0.02 or apart > max(0.3, 0.02 * length):
            refined = icp(target, tree, source, by_ref.copy(), (3.0, 2.0, 1.0, 0.5, 0.3), 0.1)
            if refined is None:
                flag, moved, to_est = True, "no overlap", ""
            else:
                shift, turned = difference(by_ref, refined)
                flag = shift > max(0.3, 0.02 * length) or turned > 0.5
                moved = f"{shift:.2f} / {turned:.2f}"
                to_est = f"{difference(refined, by_est)[0]:.2f}"
            if flag:
                flagged.append(i)
            print(f"{i:4d}  {length:8.2f}  {fit_ref:7.2f}  {fit_est:7.2f}  {apart:9.2f}  "
                  f"{moved:>13}  {to_est:>11}  {'yes' if flag else ''}")
        previous = current
    print(f"{n - 1} steps, {len(flagged)} flagged (the scans do not hold the reference's pose): {flagged}")
    for name, excluded in (("all segments", []), ("segments spanning no flagged step", flagged)):
        value, count, lengths = drift(reference, estimate, excluded)
        print(f"estimate drift over {name}: {value:.2f} % ({count} segments of {lengths[0]}-{lengths[-1]} m)")


def chain(args):
    files = scan_files(args.dataset)
    reference = load_poses(args.reference)
    pose = reference[args.first].copy()
    for i in range(args.first + args.step, args.last + 1, args.step):
        target = downsample(read_scan(files[i - args.step]), 0.1)
        source = downsample(read_scan(files[i]), 0.2)
        tree = cKDTree(target)
        relative = icp(target, tree, source, between(reference, i - args.step, i),
                       (0.5, 0.3, 0.2, 0.1), 0.05)
        if relative is None:
            sys.exit(f"scans {i - args.step} and {i} do not overlap at the reference's pose")
        pose = pose @ relative
    end = (pose[:3, 3] - reference[args.last, :3, 3]).round(3)
    moved, turned = difference(reference[args.last], pose)
    print(f"ICP chain {args.first}..{args.last} every {args.step}: ends {end} m from the reference "
          f"(world frame; {moved:.3f} m, {turned:.3f} deg)")


def anchor(args):
    files = scan_files(args.dataset)
    reference = load_poses(args.reference)
    estimates = [load_poses(path) for path in args.estimates]
    n = min([len(files), len(reference)] + [len(e) for e in estimates])
    k = args.anchor
    if not 0 <= k < n:
        sys.exit(f"--anchor {k}: the trajectories have {n} scans")
    estimates = [reference[k] @ np.linalg.inv(e[k]) @ e[:n] for e in estimates]
    target = downsample(read_scan(files[k]), 0.1)
    tree = cKDTree(target)
    thresholds = (1.0, 0.5, 0.3, 0.2, 0.1)
    names = ["reference"] + [os.path.basename(path) for path in args.estimates]
    print("scan  fit   starts_apart_m  " + "  ".join(f"{name}_off_m" for name in names))
    kept = []
    for j in range(n):
        source = downsample(read_scan(files[j]), 0.2)
        starts = [between(reference, k, j)] + [between(e, k, j) for e in estimates]
        ends = [icp(target, tree, source, start.copy(), thresholds, 0.05) for start in starts]
        if any(end is None for end in ends):
            print(f"{j:4d}  no overlap")
            continue
        direct = reference[k] @ ends[0]
        apart = max(difference(ends[0], end)[0] for end in ends[1:]) if len(ends) > 1 else 0.0
        score = fit(tree, source, ends[0])
        offsets = [np.linalg.norm(t[j, :3, 3] - direct[:3, 3]) for t in [reference] + estimates]
        use = score >= args.min_fit and apart <= 0.05
        if use:
            kept.append(offsets)
        print(f"{j:4d}  {score:4.2f}  {apart:14.3f}  "
              + "  ".join(f"{o:{len(name) + 6}.3f}" for o, name in zip(offsets, names))
              + ("" if use else "  (left out)"))
    if not kept:
        sys.exit(f"no scan registers onto scan {k} well enough (--min-fit {args.min_fit})")
    rms = np.sqrt(np.mean(np.square(kept), axis=0))
    print(f"{len(kept)} of {n} scans registered directly onto scan {k}; RMS distance from those "
          "registrations: " + ", ".join(f"{name} {r:.4f} m" for name, r in zip(names, rms)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("steps")
    s.add_argument("dataset")
    s.add_argument("reference")
    s.add_argument("estimate")
    s.add_argument("--scans", type=int, help="only the first N scans")
    c = sub.add_parser("chain")
    c.add_argument("dataset")
    c.add_argument("reference")
    for name in ("first", "last", "step"):
        c.add_argument(name, type=int)
    a = sub.add_parser("anchor")
    a.add_argument("dataset")
    a.add_argument("reference")
    a.add_argument("estimates", nargs="+")
    a.add_argument("--anchor", type=int, default=0, help="the scan all others register into")
    a.add_argument("--min-fit", type=float, default=0.3,
                   help="least fraction of a scan's points within 0.3 m of the anchor's")
    args = parser.parse_args()
    {"steps": steps, "chain": chain, "anchor": anchor}[args.command](args)


if __name__ == "__main__":
    main()
