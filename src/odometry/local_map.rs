//! The local map: world points hashed into voxels, at most N per voxel, voxels beyond the
//! sensor range dropped as the sensor moves. Nearest-neighbour queries go through a kiddo
//! k-d tree over all map points, so they return the true nearest point within any
//! threshold (a 27-voxel search misses matches when the threshold exceeds the voxel).
//! Each voxel with enough points also holds a plane (normal) for point-to-plane residuals.

use crate::filters::voxel::voxel_of;
use crate::geometry::fit_plane;
use kiddo::{ImmutableKdTree, SquaredEuclidean};
use nalgebra::{Point3, Vector3};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// Points of a voxel fewer than this give no plane.
const MIN_PLANE_POINTS: usize = 5;
/// A voxel is planar when its smallest covariance eigenvalue is below this fraction of the
/// middle one.
const PLANARITY: f64 = 0.1;

#[derive(Debug, Clone, Default)]
struct Cell {
    points: Vec<Point3<f64>>,
    normal: Option<Vector3<f64>>,
    dirty: bool,
}

/// A nearest map point: position, squared distance, plane normal when the voxel is planar.
#[derive(Debug, Clone, Copy)]
pub struct Neighbour {
    /// The map point.
    pub point: Point3<f64>,
    /// Squared distance to the query.
    pub distance2: f64,
    /// Unit normal of the voxel's plane, when it has one.
    pub normal: Option<Vector3<f64>>,
}

/// Voxel-hashed local map with a k-d tree for queries.
pub struct LocalMap {
    voxel_size: f64,
    max_points_per_voxel: usize,
    cells: FxHashMap<[i32; 3], Cell>,
    /// Flattened points and their voxel's normal, rebuilt with the tree.
    flat: Vec<(Point3<f64>, Option<Vector3<f64>>)>,
    /// The tree holds `f32` coordinates relative to `anchor` (half the memory of `f64`, and
    /// sub-millimetre precision within kilometres of it); distances are recomputed in `f64`.
    tree: Option<ImmutableKdTree<f32, 3>>,
    /// Origin of the tree's coordinates: the first point ever inserted.
    anchor: Option<Point3<f64>>,
}

impl LocalMap {
    /// An empty map.
    pub fn new(voxel_size: f64, max_points_per_voxel: usize) -> LocalMap {
        LocalMap {
            voxel_size,
            max_points_per_voxel: max_points_per_voxel.max(1),
            cells: FxHashMap::default(),
            flat: Vec::new(),
            tree: None,
            anchor: None,
        }
    }

    /// Removes every point.
    pub fn clear(&mut self) {
        self.cells.clear();
        self.rebuild();
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.cells.values().map(|c| c.points.len()).sum()
    }

    /// True when the map holds no point.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Number of occupied voxels.
    pub fn voxels(&self) -> usize {
        self.cells.len()
    }

    /// Adds world points (each voxel keeps its first N), drops voxels farther than
    /// `max_distance` from `origin`, and rebuilds the query structures.
    pub fn update(&mut self, points: &[Point3<f64>], origin: &Point3<f64>, max_distance: f64) {
        if self.anchor.is_none() {
            self.anchor = points.first().copied();
        }
        for p in points {
            let cell = self.cells.entry(voxel_of(p, self.voxel_size)).or_default();
            if cell.points.len() < self.max_points_per_voxel {
                cell.points.push(*p);
                cell.dirty = true;
            }
        }
        let max2 = max_distance * max_distance;
        self.cells.retain(|_, c| {
            c.points
                .first()
                .is_some_and(|p| (p - origin).norm_squared() <= max2)
        });
        self.refresh_normals();
        self.rebuild();
    }

    /// Recomputes the plane of every changed voxel from its points and a few of each of its
    /// 26 neighbours (one voxel of a sparse map holds too few points for a plane).
    fn refresh_normals(&mut self) {
        const PER_NEIGHBOUR: usize = 4;
        let stale: Vec<[i32; 3]> = self
            .cells
            .iter()
            .filter(|(_, c)| c.dirty)
            .map(|(k, _)| *k)
            .collect();
        let normals: Vec<([i32; 3], Option<Vector3<f64>>)> = stale
            .par_iter()
            .map(|k| {
                let mut block: Vec<Point3<f64>> = Vec::with_capacity(27 * PER_NEIGHBOUR);
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        for dz in -1..=1 {
                            if let Some(c) = self.cells.get(&[k[0] + dx, k[1] + dy, k[2] + dz]) {
                                let own = dx == 0 && dy == 0 && dz == 0;
                                block.extend(c.points.iter().take(if own {
                                    usize::MAX
                                } else {
                                    PER_NEIGHBOUR
                                }));
                            }
                        }
                    }
                }
                (*k, plane_normal(&block))
            })
            .collect();
        for (k, n) in normals {
            if let Some(c) = self.cells.get_mut(&k) {
                c.normal = n;
                c.dirty = false;
            }
        }
    }

    fn rebuild(&mut self) {
        // FxHash has no random seed: the same inserts and removals in the same order give
        // the same iteration order, so the tree, and every result, is deterministic.
        self.flat.clear();
        for c in self.cells.values() {
            self.flat.extend(c.points.iter().map(|p| (*p, c.normal)));
        }
        let anchor = self.anchor.unwrap_or_else(Point3::origin);
        let coords: Vec<[f32; 3]> = self
            .flat
            .iter()
            .map(|(p, _)| relative(p, &anchor))
            .collect();
        self.tree = (!coords.is_empty()).then(|| ImmutableKdTree::new_from_slice(&coords));
    }

    /// The nearest map point to `q` within `max_distance`, if any.
    pub fn nearest(&self, q: &Point3<f64>, max_distance: f64) -> Option<Neighbour> {
        let tree = self.tree.as_ref()?;
        let anchor = self.anchor.unwrap_or_else(Point3::origin);
        let nn = tree.nearest_one::<SquaredEuclidean>(&relative(q, &anchor));
        let (point, normal) = self.flat[nn.item as usize];
        let distance2 = (point - q).norm_squared();
        (distance2 <= max_distance * max_distance).then_some(Neighbour {
            point,
            distance2,
            normal,
        })
    }

    /// Every map point (for viewers and tests).
    pub fn points(&self) -> impl Iterator<Item = &Point3<f64>> {
        self.flat.iter().map(|(p, _)| p)
    }
}

/// `p − anchor` in `f32`, the tree's coordinates.
fn relative(p: &Point3<f64>, anchor: &Point3<f64>) -> [f32; 3] {
    let d = p - anchor;
    [d.x as f32, d.y as f32, d.z as f32]
}

/// Normal of the best plane through `points`, when they are planar enough.
fn plane_normal(points: &[Point3<f64>]) -> Option<Vector3<f64>> {
    if points.len() < MIN_PLANE_POINTS {
        return None;
    }
    fit_plane(points, PLANARITY).map(|(_, normal)| normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_is_exact_beyond_one_voxel() {
        let mut map = LocalMap::new(0.5, 20);
        map.update(
            &[Point3::new(0.0, 0.0, 0.0), Point3::new(3.0, 0.0, 0.0)],
            &Point3::origin(),
            100.0,
        );
        // 1.4 m away: three voxels of 0.5 m, which a 27-voxel search would miss.
        let n = map.nearest(&Point3::new(1.6, 0.0, 0.0), 2.0).unwrap();
        assert_eq!(n.point, Point3::new(3.0, 0.0, 0.0));
        assert!(map.nearest(&Point3::new(1.5, 10.0, 0.0), 2.0).is_none());
    }

    #[test]
    fn caps_voxels_drops_far_ones_and_finds_planes() {
        let mut map = LocalMap::new(1.0, 10);
        let ground: Vec<Point3<f64>> = (0..100)
            .map(|i| (i * 37) % 100)
            .map(|k| {
                Point3::new(
                    (k % 10) as f64 * 0.09 + 0.01,
                    (k / 10) as f64 * 0.09 + 0.01,
                    0.2,
                )
            })
            .collect();
        map.update(&ground, &Point3::origin(), 100.0);
        assert_eq!(map.len(), 10);
        let n = map.nearest(&Point3::new(0.5, 0.5, 0.3), 1.0).unwrap();
        let normal = n.normal.expect("a flat voxel has a plane");
        assert!(normal.z.abs() > 0.99, "{normal:?}");
        map.update(
            &[Point3::new(50.0, 0.0, 0.0)],
            &Point3::new(50.0, 0.0, 0.0),
            10.0,
        );
        assert_eq!(
            map.len(),
            1,
            "voxels beyond 10 m from the sensor are dropped"
        );
    }
}
