//! The local map: world points hashed into voxels, at most N per voxel, voxels beyond the
//! sensor range dropped as the sensor moves. Nearest-neighbour queries go through kiddo k-d
//! trees over all map points, so they return the true nearest point within any threshold
//! (a 27-voxel search misses matches when the threshold exceeds the voxel).
//! Each voxel with enough points also holds a plane (normal) for point-to-plane residuals.
//!
//! Rebuilding one tree over every map point at every keyframe cost more than registering
//! the scan on a dense map (48 ms for 430 000 points with kiddo 5, against 1 000 to 6 000
//! new points per keyframe). So the points live in two trees: a large one built at the last
//! full rebuild and a small one over the points added since, rebuilt per update; a query
//! asks both.
//! Far voxels are dropped, and the large tree rebuilt, once the far and the new points
//! together exceed an eighth of it.

use crate::filters::voxel::voxel_of;
use crate::geometry::fit_plane;
use kiddo::{ImmutableKdTree, SquaredEuclidean};
use nalgebra::{Point3, Vector3};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::hash::BuildHasher;
use std::num::NonZero;

/// Points of a voxel fewer than this give no plane.
const MIN_PLANE_POINTS: usize = 5;
/// A voxel is planar when its smallest covariance eigenvalue is below this fraction of the
/// middle one.
const PLANARITY: f64 = 0.1;
/// The large tree is rebuilt (and far voxels dropped) when the points added since its last
/// build plus the points of far voxels exceed this fraction of its size: the small tree
/// stays small, and the rebuild's cost is shared by many updates.
const REBUILD_FRACTION: f64 = 0.125;
/// Layers of at least this many points are built on all threads (the large tree's rebuild,
/// hundreds of thousands of points, was the longest serial step of the odometry).
const PARALLEL_BUILD: usize = 65_536;

#[derive(Debug, Clone, Default)]
struct Cell {
    /// Index of the voxel in `LocalMap::voxel_info`.
    id: u32,
    /// The voxel's points, exact: its plane is fitted to them. (Held in place as `f32`
    /// relative to the anchor, as the trees hold them, they came 0.1 mm off a kilometre
    /// away and riverside's fragile step 215 went 23° off the car's heading; as `f32`
    /// offsets from the voxel's corner, 20°; exact, 9°. The speed it bought was noise.)
    points: Vec<Point3<f64>>,
}

/// What the queries and the far-voxel count read of a voxel.
#[derive(Debug, Clone, Copy, Default)]
struct VoxelInfo {
    /// Unit normal of the voxel's plane, when it is planar.
    normal: Option<Vector3<f32>>,
    /// Points the voxel holds.
    points: u32,
    /// Listed in `LocalMap::changed`: the voxel gained points since its plane was fitted.
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

/// A k-d tree over some map points. The tree holds `f32` coordinates relative to the map's
/// anchor (half the memory of `f64`, sub-millimetre precision within kilometres of it);
/// `entries` repeats them with the voxel's plane index, 16 bytes a point, so a query's
/// answer is read from one small record.
#[derive(Default)]
struct Layer {
    tree: Option<ImmutableKdTree<f32, 3>>,
    entries: Vec<Entry>,
}

impl Layer {
    fn build(entries: Vec<Entry>) -> Layer {
        let coords: Vec<[f32; 3]> = entries.iter().map(|(p, _)| *p).collect();
        Layer {
            tree: (!coords.is_empty()).then(|| {
                ImmutableKdTree::builder()
                    .with_parallel_construction_threshold(PARALLEL_BUILD)
                    .build_from_slice(&coords)
                    .expect("fewer than 2^32 map points")
            }),
            entries,
        }
    }

    fn nearest(&self, q: &[f32; 3]) -> Option<(f32, [f32; 3], u32)> {
        let nn = self
            .tree
            .as_ref()?
            .query(q)
            .nearest_one::<SquaredEuclidean<f32>>()
            .execute();
        let (p, id) = self.entries[nn.item as usize];
        Some((nn.distance, p, id))
    }

    /// The nearest entry to `q` when it is nearer than `d2` (a squared distance): a search
    /// pruned by what another layer already found.
    fn nearer_than(&self, q: &[f32; 3], d2: f32) -> Option<(f32, [f32; 3], u32)> {
        let one = NonZero::new(1).expect("not zero");
        let nn = *self
            .tree
            .as_ref()?
            .query(q)
            .nearest_n::<SquaredEuclidean<f32>>(one)
            .within(d2)
            .execute()
            .first()?;
        let (p, id) = self.entries[nn.item as usize];
        (nn.distance < d2).then_some((nn.distance, p, id))
    }

    /// Adds the `NEIGHBOURHOOD` nearest entries to `q` (fewer when the layer is smaller,
    /// or when fewer lie within `within`, a squared distance), with their squared
    /// distances, to `out`.
    fn nearest_few(&self, q: &[f32; 3], within: Option<f32>, out: &mut Vec<(f32, Entry)>) {
        if let Some(tree) = self.tree.as_ref() {
            let k = NonZero::new(NEIGHBOURHOOD).expect("not zero");
            let query = tree.query(q).nearest_n::<SquaredEuclidean<f32>>(k);
            let found = match within {
                Some(r2) => query.within(r2).execute(),
                None => query.execute(),
            };
            out.extend(
                found
                    .into_iter()
                    .map(|nn| (nn.distance, self.entries[nn.item as usize])),
            );
        }
    }
}

/// A tree entry: coordinates relative to the anchor, voxel (plane) index.
type Entry = ([f32; 3], u32);

/// How many nearest map points a [`Neighbourhood`] keeps.
pub const NEIGHBOURHOOD: usize = 4;

/// Rounding allowance of a [`Neighbourhood`]'s certificate, metres (`f32` coordinates
/// within kilometres of the anchor round to well under this).
const CERTIFICATE_MARGIN: f32 = 1e-4;

/// The nearest map points to a position, and how far they certainly reach: every map
/// point left out lies at least `reach` from `centre`. A later query within the
/// neighbourhood then needs no tree search: when its nearest candidate is closer than `reach`
/// minus how far the query moved from `centre`, no point left out can be closer (triangle
/// inequality), so the candidate is the exact nearest. Gauss-Newton moves each point a few
/// millimetres to centimetres per iteration, so after one search per point most iterations
/// answer from here.
#[derive(Debug, Clone, Copy)]
pub struct Neighbourhood {
    centre: [f32; 3],
    reach: f32,
    len: usize,
    candidates: [Entry; NEIGHBOURHOOD],
}

impl Neighbourhood {
    /// A squared distance from `q` within which `NEIGHBOURHOOD` of the candidates lie (with
    /// a little room for rounding), when there are that many.
    fn bound(&self, q: &[f32; 3]) -> Option<f32> {
        (self.len == NEIGHBOURHOOD).then(|| {
            let far = self
                .candidates
                .iter()
                .map(|e| distance2(q, &e.0))
                .fold(0.0, f32::max);
            with_rounding_room(far)
        })
    }

    /// The exact nearest of the map to `q` (squared distance, entry), when the
    /// certificate covers `q`.
    fn nearest(&self, q: &[f32; 3]) -> Option<(f32, Entry)> {
        let moved = distance2(q, &self.centre).sqrt();
        let (d2, e) = self.candidates[..self.len]
            .iter()
            .map(|e| (distance2(q, &e.0), *e))
            .min_by(|a, b| a.0.total_cmp(&b.0))?;
        (d2.sqrt() + moved + CERTIFICATE_MARGIN < self.reach).then_some((d2, e))
    }
}

/// A squared distance in the trees' f32 arithmetic, widened a little for its rounding: a
/// search bounded by it finds the point it was measured to.
fn with_rounding_room(d2: f32) -> f32 {
    d2 * (1.0 + 1e-5) + 1e-8
}

/// Squared distance, summed as kiddo sums it.
fn distance2(a: &[f32; 3], b: &[f32; 3]) -> f32 {
    let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
}

/// The points of one density in two trees: those present at the last full rebuild and
/// those added since.
#[derive(Default)]
struct Trees {
    base: Layer,
    fresh: Layer,
}

impl Trees {
    /// The nearest of both trees when nearer than `d2` (a squared distance; unbounded
    /// when infinite): squared `f32` distance, relative point, plane index. The small
    /// tree's search is bounded by what the large one found.
    fn nearer_than(&self, q: &[f32; 3], d2: f32) -> Option<(f32, [f32; 3], u32)> {
        // Unbounded, kiddo's nearest-one search is cheaper than a bounded nearest-n.
        let base = if d2.is_finite() {
            self.base.nearer_than(q, d2)
        } else {
            self.base.nearest(q)
        };
        match base {
            Some(a) => Some(self.fresh.nearer_than(q, a.0).unwrap_or(a)),
            None => self.fresh.nearer_than(q, d2),
        }
    }

    /// The nearest points to `q` over both trees, with the distance beyond which none was
    /// left out: the union of each tree's nearest few holds the nearest few of all, and a
    /// point left out of a tree's list lies beyond that list's last, hence beyond the
    /// union's last kept. The small tree is searched only within the large one's last
    /// (what lies beyond it cannot be among the nearest few), which prunes its search.
    ///
    /// With `within` (a squared distance), only points nearer than it are searched for; the
    /// caller knows of `NEIGHBOURHOOD` points within it, so the nearest few are still found.
    fn neighbourhood(&self, q: &[f32; 3], within: Option<f32>) -> Neighbourhood {
        let mut all = Vec::with_capacity(2 * NEIGHBOURHOOD);
        self.base.nearest_few(q, within, &mut all);
        let base_reach =
            (all.len() >= NEIGHBOURHOOD).then(|| all.iter().map(|(d, _)| *d).fold(0.0, f32::max));
        self.fresh.nearest_few(q, base_reach.or(within), &mut all);
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        let reach = if all.len() >= NEIGHBOURHOOD {
            all[NEIGHBOURHOOD - 1].0.sqrt()
        } else {
            // Fewer found: every point left out lies beyond the bound, if there was one.
            within.map_or(f32::INFINITY, f32::sqrt)
        };
        all.truncate(NEIGHBOURHOOD);
        let mut candidates = [([0.0; 3], 0); NEIGHBOURHOOD];
        for (slot, (_, e)) in candidates.iter_mut().zip(&all) {
            *slot = *e;
        }
        Neighbourhood {
            centre: *q,
            reach,
            len: all.len(),
            candidates,
        }
    }
}

/// Which points of the map a query searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Density {
    /// Every point: the true nearest map point.
    #[default]
    Full,
    /// The first point of each voxel: the nearest of those, at a fraction of the cost (for a
    /// coarse alignment from a poor guess, where a query searches far).
    Sparse,
}

/// Voxel-hashed local map with k-d trees for queries.
pub struct LocalMap {
    voxel_size: f64,
    max_points_per_voxel: usize,
    cells: FxHashMap<[i32; 3], Cell>,
    /// Plane and size of each voxel, by the voxel's `id`: a flat list that the far voxels
    /// are counted from, and queries read normals from, without touching the hash map.
    voxel_info: Vec<VoxelInfo>,
    /// Every point.
    full: Trees,
    /// The first point of each voxel.
    sparse: Trees,
    /// Origin of the trees' coordinates: the first point ever inserted.
    anchor: Option<Point3<f64>>,
    /// Keys of the voxels whose planes are to be fitted again.
    changed: Vec<[i32; 3]>,
    /// Whether voxels get planes (not for the points of a planar laser, all on one plane).
    planes: bool,
}

impl LocalMap {
    /// An empty map.
    pub fn new(voxel_size: f64, max_points_per_voxel: usize) -> LocalMap {
        LocalMap {
            voxel_size,
            max_points_per_voxel: max_points_per_voxel.max(1),
            cells: FxHashMap::default(),
            voxel_info: Vec::new(),
            full: Trees::default(),
            sparse: Trees::default(),
            anchor: None,
            changed: Vec::new(),
            planes: true,
        }
    }

    /// The same map without plane normals: for the points of a planar laser, all at z = 0,
    /// whose voxels' least spread is the vertical (a plane fit would say every voxel is
    /// horizontal), and whose fits would only cost time.
    pub fn without_planes(mut self) -> LocalMap {
        self.planes = false;
        self
    }

    /// Removes every point.
    pub fn clear(&mut self) {
        self.cells.clear();
        self.rebuild_all(&Point3::origin(), f64::INFINITY);
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

    /// Adds world points (each voxel keeps its first N) and refreshes the query structures.
    /// Voxels farther than `max_distance` from `origin` are dropped at the next full rebuild,
    /// which comes once they and the points added since the last one exceed an eighth of
    /// the map.
    pub fn update(&mut self, points: &[Point3<f64>], origin: &Point3<f64>, max_distance: f64) {
        let anchor = *self
            .anchor
            .get_or_insert_with(|| points.first().copied().unwrap_or_else(Point3::origin));
        let mut fresh = std::mem::take(&mut self.full.fresh.entries);
        let mut fresh_sparse = std::mem::take(&mut self.sparse.fresh.entries);
        // Grouped by voxel (in their order within each), the points look each voxel up once.
        let mut keyed: Vec<u128> = points
            .iter()
            .enumerate()
            .map(|(i, p)| key_and_index(voxel_of(p, self.voxel_size), i as u32))
            .collect();
        keyed.sort_unstable();
        for group in keyed.chunk_by(|a, b| a >> 32 == b >> 32) {
            let key = key_of(group[0]);
            let cell = self.cells.entry(key).or_insert_with(|| {
                self.voxel_info.push(VoxelInfo::default());
                Cell {
                    id: (self.voxel_info.len() - 1) as u32,
                    ..Cell::default()
                }
            });
            let room = self.max_points_per_voxel.saturating_sub(cell.points.len());
            if room == 0 {
                continue;
            }
            for &ki in group.iter().take(room) {
                let p = &points[ki as u32 as usize];
                let entry = (relative(p, &anchor), cell.id);
                if cell.points.is_empty() {
                    fresh_sparse.push(entry);
                }
                cell.points.push(*p);
                fresh.push(entry);
            }
            let info = &mut self.voxel_info[cell.id as usize];
            info.points = cell.points.len() as u32;
            if !info.dirty {
                info.dirty = true;
                self.changed.push(key);
            }
        }
        // A voxel is far by its first point: the sparse layers' entries, a flat list of them
        // (reading each voxel's own points instead cost a cache miss per voxel).
        let (o, max2) = (
            relative(origin, &anchor),
            (max_distance * max_distance) as f32,
        );
        let far: usize = self
            .sparse
            .base
            .entries
            .iter()
            .chain(&fresh_sparse)
            .filter(|(p, _)| distance2(p, &o) > max2)
            .map(|(_, id)| self.voxel_info[*id as usize].points as usize)
            .sum();
        let base = self.full.base.entries.len();
        if (far + fresh.len()) as f64 > REBUILD_FRACTION * base as f64 {
            self.full.fresh.entries = fresh;
            self.sparse.fresh.entries = fresh_sparse;
            self.rebuild_all(origin, max_distance);
        } else {
            let mut changed = std::mem::take(&mut self.changed);
            let (full, sparse, planes) =
                build_beside_planes(&self.cells, &mut changed, fresh, fresh_sparse, self.planes);
            self.full.fresh = full;
            self.sparse.fresh = sparse;
            self.set_planes(planes);
        }
    }

    /// Drops far voxels, renumbers the planes, and rebuilds the large trees over every
    /// point. Their entries are the two trees' own, kept in place: gathering them from the
    /// hash map's scattered voxels cost a third of the rebuild.
    fn rebuild_all(&mut self, origin: &Point3<f64>, max_distance: f64) {
        let max2 = max_distance * max_distance;
        // New index of each old voxel (`u32::MAX`: dropped), given in the same pass over the
        // table that drops the far ones. FxHash has no random seed: the same inserts and
        // removals in the same order give the same order here, so the numbering, the trees
        // and every result are deterministic.
        let mut renumbered = vec![u32::MAX; self.voxel_info.len()];
        let mut info = Vec::with_capacity(self.cells.len());
        let old_info = &self.voxel_info;
        self.cells.retain(|_, c| {
            if is_far(c, origin, max2) {
                return false;
            }
            renumbered[c.id as usize] = info.len() as u32;
            info.push(old_info[c.id as usize]);
            c.id = (info.len() - 1) as u32;
            true
        });
        self.voxel_info = info;
        let kept = |trees: &mut Trees| -> Vec<Entry> {
            let mut all = std::mem::take(&mut trees.base.entries);
            all.append(&mut trees.fresh.entries);
            all.retain_mut(|(_, id)| {
                *id = renumbered[*id as usize];
                *id != u32::MAX
            });
            all
        };
        let (full, sparse) = (kept(&mut self.full), kept(&mut self.sparse));
        let mut changed = std::mem::take(&mut self.changed);
        let (full, sparse, planes) =
            build_beside_planes(&self.cells, &mut changed, full, sparse, self.planes);
        self.full = Trees {
            base: full,
            fresh: Layer::default(),
        };
        self.sparse = Trees {
            base: sparse,
            fresh: Layer::default(),
        };
        self.set_planes(planes);
    }

    /// Stores the planes of changed voxels (from [`stale_planes`]) and marks them fresh.
    fn set_planes(&mut self, planes: Planes) {
        for (id, n) in planes {
            let info = &mut self.voxel_info[id as usize];
            info.normal = n.map(|n| n.cast());
            info.dirty = false;
        }
    }

    /// The nearest map point to `q` within `max_distance`, if any.
    pub fn nearest(&self, q: &Point3<f64>, max_distance: f64) -> Option<Neighbour> {
        self.nearest_in(Density::Full, q, max_distance)
    }

    /// The nearest point of `density` to `q` within `max_distance`, if any.
    pub fn nearest_in(
        &self,
        density: Density,
        q: &Point3<f64>,
        max_distance: f64,
    ) -> Option<Neighbour> {
        self.nearest_tracked(density, q, max_distance, &mut None)
    }

    /// The nearest point of `density` to `q` within `max_distance`, like
    /// [`nearest_in`](Self::nearest_in), for a query point that moves: `previous` holds its
    /// last match (set here), which is still a map point, so the nearest lies no farther
    /// than it and the search prunes beyond. Keep one per moving query point, and none
    /// across map updates or densities.
    pub fn nearest_tracked(
        &self,
        density: Density,
        q: &Point3<f64>,
        max_distance: f64,
        previous: &mut Option<Point3<f64>>,
    ) -> Option<Neighbour> {
        let anchor = self.anchor?;
        let rq = relative(q, &anchor);
        let bound = previous.as_ref().map_or(f32::INFINITY, |m| {
            with_rounding_room(distance2(&rq, &relative(m, &anchor)))
        });
        let (_, p, id) = self.trees(density).nearer_than(&rq, bound)?;
        let n = self.neighbour(&anchor, p, id, q, max_distance);
        *previous = n.map(|n| n.point);
        n
    }

    /// The nearest point of `density` to `q` within `max_distance`, like
    /// [`nearest_in`](Self::nearest_in) but answered from `hint` when its certificate covers
    /// `q`; otherwise the trees are searched and `hint` is replaced by the neighbourhood of
    /// `q`. Keep one hint per moving query point, and none across map updates or densities.
    pub fn nearest_near(
        &self,
        density: Density,
        q: &Point3<f64>,
        max_distance: f64,
        hint: &mut Option<Neighbourhood>,
    ) -> Option<Neighbour> {
        let anchor = self.anchor?;
        let rq = relative(q, &anchor);
        let (p, id) = match hint.as_ref().and_then(|h| h.nearest(&rq)) {
            Some((_, found)) => found,
            None => {
                // The old neighbourhood's points are still map points: the new nearest few
                // lie no farther than the farthest of them, which bounds the search.
                let within = hint.as_ref().and_then(|h| h.bound(&rq));
                let fresh = self.trees(density).neighbourhood(&rq, within);
                let found = (fresh.len > 0).then_some(fresh.candidates[0]);
                *hint = Some(fresh);
                found?
            }
        };
        self.neighbour(&anchor, p, id, q, max_distance)
    }

    fn trees(&self, density: Density) -> &Trees {
        match density {
            Density::Full => &self.full,
            Density::Sparse => &self.sparse,
        }
    }

    /// The map point at `p` (relative to `anchor`) in voxel `id`, when within `max_distance`
    /// of `q`.
    fn neighbour(
        &self,
        anchor: &Point3<f64>,
        p: [f32; 3],
        id: u32,
        q: &Point3<f64>,
        max_distance: f64,
    ) -> Option<Neighbour> {
        let point = anchor + Vector3::new(p[0] as f64, p[1] as f64, p[2] as f64);
        let distance2 = (point - q).norm_squared();
        (distance2 <= max_distance * max_distance).then(|| Neighbour {
            point,
            distance2,
            normal: self.voxel_info[id as usize].normal.map(|n| n.cast()),
        })
    }

    /// Every map point (for viewers and tests).
    pub fn points(&self) -> impl Iterator<Item = &Point3<f64>> {
        self.cells.values().flat_map(|c| c.points.iter())
    }
}

/// Plane normals of voxels, by voxel id (`None`: not planar).
type Planes = Vec<(u32, Option<Vector3<f64>>)>;

/// The full and the sparse layer over the entries `full` and `sparse`, and the planes of
/// the `changed` voxels (when `with_planes`): three independent jobs, run side by side (the large tree's build
/// is most of the work, the other two go beside it).
fn build_beside_planes(
    cells: &FxHashMap<[i32; 3], Cell>,
    changed: &mut [[i32; 3]],
    full: Vec<Entry>,
    sparse: Vec<Entry>,
    with_planes: bool,
) -> (Layer, Layer, Planes) {
    let (full, (sparse, planes)) = rayon::join(
        || Layer::build(full),
        || {
            rayon::join(
                || Layer::build(sparse),
                || {
                    if with_planes {
                        stale_planes(cells, changed)
                    } else {
                        Vec::new()
                    }
                },
            )
        },
    );
    (full, sparse, planes)
}

/// The plane of every `changed` voxel still in the map (a far one may have been dropped),
/// from its points and a few of each of its 26 neighbours (one voxel of a sparse map holds
/// too few points for a plane). The voxels go in key order, in chunks that each keep a
/// small cache of the voxels they looked up: neighbouring voxels share most of their
/// neighbours, and a lookup in the large map is a cache miss, which bound this step.
fn stale_planes(cells: &FxHashMap<[i32; 3], Cell>, changed: &mut [[i32; 3]]) -> Planes {
    const PER_NEIGHBOUR: usize = 4;
    const CHUNK: usize = 256;
    changed.sort_unstable();
    changed
        .par_chunks(CHUNK)
        .flat_map_iter(|chunk| {
            let mut near = NearCells::new(cells);
            let mut block: Vec<Point3<f64>> = Vec::with_capacity(27 * PER_NEIGHBOUR);
            chunk
                .iter()
                .filter_map(|k| {
                    let own = near.get(*k)?;
                    block.clear();
                    block.extend(&own.points);
                    for dx in -1..=1 {
                        for dy in -1..=1 {
                            for dz in -1..=1 {
                                if (dx, dy, dz) == (0, 0, 0) {
                                    continue;
                                }
                                if let Some(c) = near.get([k[0] + dx, k[1] + dy, k[2] + dz]) {
                                    block.extend(c.points.iter().take(PER_NEIGHBOUR));
                                }
                            }
                        }
                    }
                    Some((own.id, plane_normal(&block)))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Lookups in the voxel map through a small direct-mapped cache of recent answers
/// (present or absent).
struct NearCells<'a> {
    cells: &'a FxHashMap<[i32; 3], Cell>,
    slots: Vec<([i32; 3], Option<&'a Cell>)>,
}

impl<'a> NearCells<'a> {
    /// Slots of the cache: a few chunks' worth of neighbourhoods, within the core's L1/L2.
    const SLOTS: usize = 2048;

    fn new(cells: &'a FxHashMap<[i32; 3], Cell>) -> Self {
        // No voxel key has i32::MIN in every coordinate within a map's reach.
        NearCells {
            cells,
            slots: vec![([i32::MIN; 3], None); Self::SLOTS],
        }
    }

    fn get(&mut self, k: [i32; 3]) -> Option<&'a Cell> {
        let h = FxBuildHasher.hash_one(k);
        let slot = &mut self.slots[(h >> 32) as usize & (Self::SLOTS - 1)];
        if slot.0 != k {
            *slot = (k, self.cells.get(&k));
        }
        slot.1
    }
}

/// Whether a voxel (by its first point) lies farther than `sqrt(max2)` from `origin`.
fn is_far(c: &Cell, origin: &Point3<f64>, max2: f64) -> bool {
    c.points
        .first()
        .is_none_or(|p| (p - origin).norm_squared() > max2)
}

/// A voxel key and a point index in one integer, ordered as the pair `(key, index)`: a
/// keyframe's points are sorted by it to group them by voxel, and one integer comparison
/// is cheaper than comparing the triples and then the indices.
fn key_and_index(key: [i32; 3], index: u32) -> u128 {
    // Flipping the sign bit maps i32's order onto u32's.
    let c = |v: i32| (v as u32 ^ 0x8000_0000) as u128;
    c(key[0]) << 96 | c(key[1]) << 64 | c(key[2]) << 32 | index as u128
}

/// The voxel key of a [`key_and_index`] value.
fn key_of(v: u128) -> [i32; 3] {
    let c = |shift: u32| ((v >> shift) as u32 ^ 0x8000_0000) as i32;
    [c(96), c(64), c(32)]
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
    fn queries_over_both_trees_and_densities_match_brute_force_as_the_sensor_moves() {
        // A sensor driving along x inserts a noisy wall and floor every metre: updates both
        // add to the small tree and trigger full rebuilds, and far voxels are dropped.
        let mut map = LocalMap::new(0.5, 4);
        let mut rebuilds = 0;
        let mut answered_from_hint = 0;
        let mut seed = 7u64;
        let mut rand = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for step in 0..40 {
            let x0 = step as f64;
            let scan: Vec<Point3<f64>> = (0..400)
                .map(|_| {
                    let (u, v) = (x0 + 20.0 * rand() - 10.0, 6.0 * rand() - 3.0);
                    if rand() < 0.5 {
                        Point3::new(u, v, 0.02 * rand())
                    } else {
                        Point3::new(u, 3.0 + 0.02 * rand(), v + 3.0)
                    }
                })
                .collect();
            let before = map.full.base.entries.len();
            map.update(&scan, &Point3::new(x0, 0.0, 1.0), 12.0);
            if map.full.base.entries.len() != before {
                rebuilds += 1;
            }
            let all: Vec<Point3<f64>> = map.points().copied().collect();
            let firsts: Vec<Point3<f64>> = map.cells.values().map(|c| c.points[0]).collect();
            assert_eq!(firsts.len(), map.voxels());
            assert_eq!(
                all.len(),
                map.full.base.entries.len() + map.full.fresh.entries.len()
            );
            // Brute force: the squared distance from `q` to the nearest of `points`.
            let closest = |points: &[Point3<f64>], q: &Point3<f64>| {
                points
                    .iter()
                    .map(|p| (p - q).norm_squared())
                    .fold(f64::INFINITY, f64::min)
            };
            for _ in 0..50 {
                let q = Point3::new(x0 + 30.0 * rand() - 15.0, 8.0 * rand() - 4.0, 5.0 * rand());
                let truth = closest(&all, &q);
                let found = map.nearest(&q, 100.0).expect("map is not empty");
                assert!(
                    (found.distance2.sqrt() - truth.sqrt()).abs() < 1e-4,
                    "step {step}: {} vs {}",
                    found.distance2.sqrt(),
                    truth.sqrt()
                );
                // A query walking in small steps (as a point does over Gauss-Newton
                // iterations), answered from its neighbourhood while the certificate holds,
                // still gets the exact nearest point.
                let mut hint = None;
                let mut walker = q;
                for _ in 0..8 {
                    walker += Vector3::new(rand() - 0.5, rand() - 0.5, rand() - 0.5) * 0.05;
                    let centre = hint.map(|h: Neighbourhood| h.centre);
                    let near = map
                        .nearest_near(Density::Full, &walker, 100.0, &mut hint)
                        .expect("map is not empty");
                    let truth = closest(&all, &walker);
                    assert!(
                        (near.distance2.sqrt() - truth.sqrt()).abs() < 1e-4,
                        "step {step}, walking: {} vs {}",
                        near.distance2.sqrt(),
                        truth.sqrt()
                    );
                    if centre == hint.map(|h| h.centre) {
                        answered_from_hint += 1;
                    }
                }
                // The sparse density searches exactly the first point of every voxel.
                let sparse_truth = closest(&firsts, &q);
                let sparse = map.nearest_in(Density::Sparse, &q, 100.0).unwrap();
                assert!(
                    (sparse.distance2.sqrt() - sparse_truth.sqrt()).abs() < 1e-4,
                    "step {step}, sparse: {} vs {}",
                    sparse.distance2.sqrt(),
                    sparse_truth.sqrt()
                );
                // A query walking in decimetre steps, each search bounded by its last match,
                // still gets the exact nearest.
                let (mut walker, mut last_sparse, mut last_full) = (q, None, None);
                for _ in 0..8 {
                    walker += Vector3::new(rand() - 0.5, rand() - 0.5, rand() - 0.5) * 0.3;
                    for (density, points, last) in [
                        (Density::Sparse, &firsts, &mut last_sparse),
                        (Density::Full, &all, &mut last_full),
                    ] {
                        let found = map
                            .nearest_tracked(density, &walker, 100.0, last)
                            .expect("map is not empty");
                        let truth = closest(points, &walker);
                        assert!(
                            (found.distance2.sqrt() - truth.sqrt()).abs() < 1e-4,
                            "step {step}, tracked {density:?}: {} vs {}",
                            found.distance2.sqrt(),
                            truth.sqrt()
                        );
                    }
                }
            }
        }
        // Far voxels are gone after the last rebuild (none older than the map's reach
        // plus what the small tree and far points may hold until the next one).
        assert!((3..40).contains(&rebuilds), "{rebuilds} rebuilds");
        // 2000 walking queries: most steps stay inside the neighbourhood of the last search.
        assert!(
            answered_from_hint > 500,
            "{answered_from_hint} answered from a hint"
        );
        assert!(
            map.points().all(|p| p.x > 39.0 - 12.0 - 10.0),
            "far voxels kept"
        );
        let floor = map.nearest(&Point3::new(39.0, 0.0, 0.3), 1.0).unwrap();
        assert!(floor.normal.expect("floor is planar").z.abs() > 0.99);
    }

    #[test]
    fn a_bounded_neighbourhood_reaches_no_farther_than_its_bound() {
        let mut map = LocalMap::new(0.5, 4);
        let line: Vec<Point3<f64>> = (0..40).map(|i| Point3::new(i as f64, 0.0, 0.0)).collect();
        map.update(&line, &Point3::origin(), 100.0);
        let q = [0.2f32, 0.0, 0.0];
        // Unbounded: the four nearest (0, 1, 2, 3 m), reaching to the 4th.
        let open = map.full.neighbourhood(&q, None);
        assert_eq!(open.len, NEIGHBOURHOOD);
        assert!((open.reach - 2.8).abs() < 1e-4, "{}", open.reach);
        // Bounded at 1 m: two points lie within; the points left out are only known to lie
        // beyond the bound, so the certificate must not reach farther (not infinitely).
        let bounded = map.full.neighbourhood(&q, Some(1.0));
        assert_eq!(bounded.len, 2);
        assert_eq!(bounded.reach, 1.0);
        // The bound a neighbourhood offers covers its candidates.
        let b = open.bound(&[0.3, 0.1, 0.0]).expect("four candidates");
        assert!(b >= 2.7f32.powi(2) + 0.01, "{b}");
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

    #[test]
    fn planes_through_the_lookup_cache_match_planes_from_direct_lookups() {
        // A wavy surface over 100 × 100 voxels: far more voxels than the cache has slots, so
        // slots are shared and overwritten; every answer must still be the voxel asked for.
        let mut map = LocalMap::new(0.3, 8);
        let points: Vec<Point3<f64>> = (0..120_000)
            .map(|i| {
                let (u, v) = ((i % 400) as f64 * 0.075, (i / 400) as f64 * 0.1);
                Point3::new(u, v, 0.3 * (u * 0.7).sin() + 0.2 * (v * 1.3).cos())
            })
            .collect();
        map.update(&points, &Point3::origin(), 1000.0);
        let mut keys: Vec<[i32; 3]> = map.cells.keys().copied().collect();
        assert!(keys.len() > 3 * NearCells::SLOTS, "{} voxels", keys.len());
        let cached = stale_planes(&map.cells, &mut keys);
        assert_eq!(cached.len(), map.cells.len());
        let mut planar = 0;
        for (id, normal) in &cached {
            let (k, own) = map.cells.iter().find(|(_, c)| c.id == *id).unwrap();
            let mut block: Vec<Point3<f64>> = own.points.clone();
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for dz in -1..=1 {
                        if (dx, dy, dz) != (0, 0, 0) {
                            if let Some(c) = map.cells.get(&[k[0] + dx, k[1] + dy, k[2] + dz]) {
                                block.extend(c.points.iter().take(4));
                            }
                        }
                    }
                }
            }
            assert_eq!(*normal, plane_normal(&block), "voxel {k:?}");
            planar += normal.is_some() as usize;
        }
        assert!(
            planar > cached.len() / 2,
            "{planar} of {} planar",
            cached.len()
        );
    }

    #[test]
    fn packed_keys_sort_and_decode_as_the_pairs_they_pack() {
        let coords = [i32::MIN, -70_000, -1, 0, 1, 3, 70_000, i32::MAX];
        let mut pairs = Vec::new();
        for (n, &x) in coords.iter().enumerate() {
            for &y in &coords[n % 3..] {
                for &z in coords.iter().rev().skip(n % 2) {
                    pairs.push(([x, y, z], (pairs.len() * 7919 % 1000) as u32));
                }
            }
        }
        let mut packed: Vec<u128> = pairs.iter().map(|&(k, i)| key_and_index(k, i)).collect();
        packed.sort_unstable();
        pairs.sort_unstable();
        let unpacked: Vec<([i32; 3], u32)> =
            packed.iter().map(|&v| (key_of(v), v as u32)).collect();
        assert_eq!(unpacked, pairs);
    }
}
