//! The procedural street: building facades at varied setbacks, kerbs, parked cars, poles
//! and trees, laid along the platform's path from `datasets/synthetic/street.yaml`, and
//! ray casting against it.

use super::motion::Motion;
use nalgebra::{Point3, Vector2, Vector3};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// A uniform range `[a, b]`.
pub type Range = [f64; 2];

fn draw(rng: &mut ChaCha8Rng, r: Range) -> f64 {
    if r[1] > r[0] {
        rng.random_range(r[0]..r[1])
    } else {
        r[0]
    }
}

/// Street parameters (see `datasets/synthetic/street.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct StreetParams {
    pub buildings: BuildingParams,
    pub kerbs: KerbParams,
    pub parked_cars: CarParams,
    pub poles: PoleParams,
    pub trees: TreeParams,
}

/// Buildings along both sides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct BuildingParams {
    pub setback: Range,
    pub width: Range,
    pub depth: Range,
    pub height: Range,
    pub gap: Range,
    pub missing: f64,
}

/// Kerbs along both sides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct KerbParams {
    pub offset: f64,
    pub height: f64,
    pub width: f64,
    pub segment: f64,
}

/// Parked cars.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct CarParams {
    pub offset: f64,
    pub length: Range,
    pub width: Range,
    pub height: Range,
    pub spacing: Range,
    pub probability: f64,
}

/// Street lamps and sign poles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PoleParams {
    pub offset: f64,
    pub radius: f64,
    pub height: Range,
    pub spacing: Range,
}

/// Trees: trunk and round crown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct TreeParams {
    pub offset: Range,
    pub trunk_radius: Range,
    pub trunk_height: Range,
    pub crown_radius: Range,
    pub spacing: Range,
    pub probability: f64,
}

const STREET_YAML: &str = include_str!("../../../datasets/synthetic/street.yaml");

impl StreetParams {
    /// The street shipped in `datasets/synthetic/street.yaml`.
    pub fn builtin() -> StreetParams {
        serde_norway::from_str(STREET_YAML)
            .expect("datasets/synthetic/street.yaml is valid (checked by a test)")
    }
}

/// A solid the rays can hit.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Box rotated about z by `yaw`, standing on the ground.
    Box {
        /// Centre (x, y, z).
        centre: Point3<f64>,
        /// Half extents along its own axes.
        half: Vector3<f64>,
        /// Rotation about z, rad.
        yaw: f64,
    },
    /// Vertical cylinder from `z0` to `z1`.
    Cylinder {
        /// Axis position.
        xy: Vector2<f64>,
        /// Radius.
        radius: f64,
        /// Bottom.
        z0: f64,
        /// Top.
        z1: f64,
    },
    /// Sphere.
    Sphere {
        /// Centre.
        centre: Point3<f64>,
        /// Radius.
        radius: f64,
    },
}

/// A solid with its reflectivity (0..1), used for intensity.
#[derive(Debug, Clone)]
pub struct Object {
    /// Geometry.
    pub shape: Shape,
    /// Reflectivity.
    pub reflectivity: f32,
    /// Centre and radius of a circle in xy that contains the object (for culling).
    pub bound: (Vector2<f64>, f64),
}

/// A ray hit: distance along the unit direction, surface normal, reflectivity.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    /// Distance, metres.
    pub range: f64,
    /// Unit normal facing the ray's origin side.
    pub normal: Vector3<f64>,
    /// Reflectivity of the surface.
    pub reflectivity: f32,
}

/// The scene: a flat road at z = 0 and objects.
#[derive(Debug, Clone)]
pub struct Scene {
    /// Every object of the street.
    pub objects: Vec<Object>,
}

impl Scene {
    /// Lays the street along the centreline of `motion` between times `t_start` and
    /// `t_end` (plus 60 m beyond both ends), drawing sizes from `rng`.
    pub fn along(
        motion: &Motion,
        params: &StreetParams,
        t_start: f64,
        t_end: f64,
        rng: &mut ChaCha8Rng,
    ) -> Scene {
        // Tabulate the centreline by arc length.
        let mut samples: Vec<(f64, Vector2<f64>, f64)> = Vec::new();
        let (span0, span1) = motion.time_span();
        let (t_start, t_end) = (t_start.max(span0), t_end.min(span1));
        let mut s = 0.0;
        let mut prev = motion.centreline(t_start).0;
        let n = ((t_end - t_start) / 0.01).ceil().max(1.0) as usize;
        for k in 0..=n {
            let t = t_start + (t_end - t_start) * k as f64 / n as f64;
            let (p, h) = motion.centreline(t);
            s += (p - prev).norm();
            prev = p;
            samples.push((s, p, h));
        }
        let total = s;
        let at = |s: f64| -> (Vector2<f64>, f64) {
            // Straight extension beyond both ends.
            let (first, last) = (samples[0], samples[samples.len() - 1]);
            if s <= 0.0 {
                return (
                    first.1 + Vector2::new(first.2.cos(), first.2.sin()) * s,
                    first.2,
                );
            }
            if s >= total {
                return (
                    last.1 + Vector2::new(last.2.cos(), last.2.sin()) * (s - total),
                    last.2,
                );
            }
            let k = samples
                .partition_point(|x| x.0 < s)
                .clamp(1, samples.len() - 1);
            let (a, b) = (samples[k - 1], samples[k]);
            let f = if b.0 > a.0 {
                (s - a.0) / (b.0 - a.0)
            } else {
                0.0
            };
            (a.1 * (1.0 - f) + b.1 * f, a.2 * (1.0 - f) + b.2 * f)
        };
        let place = |s: f64, lateral: f64| -> (Vector2<f64>, f64) {
            let (p, h) = at(s);
            (p + Vector2::new(-h.sin(), h.cos()) * lateral, h)
        };
        let (from, to) = (-60.0, total + 60.0);
        let mut objects = Vec::new();
        let push_box = |objects: &mut Vec<Object>,
                        xy: Vector2<f64>,
                        yaw: f64,
                        half: Vector3<f64>,
                        refl: f32| {
            objects.push(Object {
                shape: Shape::Box {
                    centre: Point3::new(xy.x, xy.y, half.z),
                    half,
                    yaw,
                },
                reflectivity: refl,
                bound: (xy, half.x.hypot(half.y)),
            });
        };
        for side in [-1.0, 1.0] {
            let b = &params.buildings;
            let mut s = from;
            while s < to {
                let width = draw(rng, b.width);
                let depth = draw(rng, b.depth);
                let setback = draw(rng, b.setback);
                let height = draw(rng, b.height);
                let present = rng.random::<f64>() >= b.missing;
                if present {
                    let (xy, yaw) = place(s + width / 2.0, side * (setback + depth / 2.0));
                    let refl = rng.random_range(0.2..0.7);
                    push_box(
                        &mut objects,
                        xy,
                        yaw,
                        Vector3::new(width / 2.0, depth / 2.0, height / 2.0),
                        refl,
                    );
                }
                s += width + draw(rng, b.gap);
            }
            let k = &params.kerbs;
            let mut s = from;
            while s < to {
                let (xy, yaw) = place(s + k.segment / 2.0, side * k.offset);
                push_box(
                    &mut objects,
                    xy,
                    yaw,
                    Vector3::new(k.segment / 2.0 + 0.02, k.width / 2.0, k.height / 2.0),
                    0.35,
                );
                s += k.segment;
            }
            let c = &params.parked_cars;
            let mut s = from + draw(rng, c.spacing);
            while s < to {
                if rng.random::<f64>() < c.probability {
                    let length = draw(rng, c.length);
                    let width = draw(rng, c.width);
                    let height = draw(rng, c.height);
                    let (xy, yaw) = place(s, side * c.offset);
                    let refl = rng.random_range(0.1..0.9);
                    push_box(
                        &mut objects,
                        xy,
                        yaw,
                        Vector3::new(length / 2.0, width / 2.0, height / 2.0),
                        refl,
                    );
                }
                s += draw(rng, c.spacing);
            }
            let p = &params.poles;
            let mut s = from + draw(rng, p.spacing) / 2.0;
            while s < to {
                let (xy, _) = place(s, side * p.offset);
                objects.push(Object {
                    shape: Shape::Cylinder {
                        xy,
                        radius: p.radius,
                        z0: 0.0,
                        z1: draw(rng, p.height),
                    },
                    reflectivity: 0.8,
                    bound: (xy, p.radius),
                });
                s += draw(rng, p.spacing);
            }
            let t = &params.trees;
            let mut s = from + draw(rng, t.spacing) / 2.0;
            while s < to {
                if rng.random::<f64>() < t.probability {
                    let (xy, _) = place(s, side * draw(rng, t.offset));
                    let trunk_h = draw(rng, t.trunk_height);
                    let trunk_r = draw(rng, t.trunk_radius);
                    let crown_r = draw(rng, t.crown_radius);
                    objects.push(Object {
                        shape: Shape::Cylinder {
                            xy,
                            radius: trunk_r,
                            z0: 0.0,
                            z1: trunk_h + crown_r * 0.5,
                        },
                        reflectivity: 0.3,
                        bound: (xy, trunk_r),
                    });
                    objects.push(Object {
                        shape: Shape::Sphere {
                            centre: Point3::new(xy.x, xy.y, trunk_h + crown_r),
                            radius: crown_r,
                        },
                        reflectivity: 0.25,
                        bound: (xy, crown_r),
                    });
                }
                s += draw(rng, t.spacing);
            }
        }
        Scene { objects }
    }

    /// Indices of objects that could be hit from `origin` within `range` metres.
    pub fn near(&self, origin: &Point3<f64>, range: f64) -> Vec<usize> {
        let o = Vector2::new(origin.x, origin.y);
        (0..self.objects.len())
            .filter(|&i| {
                let (c, r) = self.objects[i].bound;
                (c - o).norm() <= range + r
            })
            .collect()
    }

    /// The nearest hit of the ray `origin + r * dir` (unit `dir`) among the ground and the
    /// objects `candidates`, up to `max_range`.
    pub fn cast(
        &self,
        origin: &Point3<f64>,
        dir: &Vector3<f64>,
        candidates: &[usize],
        max_range: f64,
    ) -> Option<Hit> {
        let mut best: Option<Hit> = None;
        if dir.z < -1e-9 {
            let r = -origin.z / dir.z;
            if r > 0.0 && r <= max_range {
                best = Some(Hit {
                    range: r,
                    normal: Vector3::z(),
                    reflectivity: 0.15,
                });
            }
        }
        let limit = |best: &Option<Hit>| best.map_or(max_range, |h| h.range);
        for &i in candidates {
            let obj = &self.objects[i];
            if let Some((r, n)) = intersect(&obj.shape, origin, dir, limit(&best)) {
                best = Some(Hit {
                    range: r,
                    normal: n,
                    reflectivity: obj.reflectivity,
                });
            }
        }
        best
    }
}

/// Nearest intersection closer than `limit`: distance and outward normal.
fn intersect(
    shape: &Shape,
    o: &Point3<f64>,
    d: &Vector3<f64>,
    limit: f64,
) -> Option<(f64, Vector3<f64>)> {
    match shape {
        Shape::Box { centre, half, yaw } => {
            let (s, c) = yaw.sin_cos();
            let rel = o - centre;
            let lo = Vector3::new(c * rel.x + s * rel.y, -s * rel.x + c * rel.y, rel.z);
            let ld = Vector3::new(c * d.x + s * d.y, -s * d.x + c * d.y, d.z);
            let (mut t_near, mut t_far) = (f64::NEG_INFINITY, f64::INFINITY);
            let mut axis = 0;
            for k in 0..3 {
                if ld[k].abs() < 1e-12 {
                    if lo[k].abs() > half[k] {
                        return None;
                    }
                    continue;
                }
                let t1 = (-half[k] - lo[k]) / ld[k];
                let t2 = (half[k] - lo[k]) / ld[k];
                let (a, b) = if t1 < t2 { (t1, t2) } else { (t2, t1) };
                if a > t_near {
                    t_near = a;
                    axis = k;
                }
                t_far = t_far.min(b);
            }
            if t_near > t_far || t_near <= 0.0 || t_near >= limit {
                return None;
            }
            let mut ln = Vector3::zeros();
            ln[axis] = -ld[axis].signum();
            let n = Vector3::new(c * ln.x - s * ln.y, s * ln.x + c * ln.y, ln.z);
            Some((t_near, n))
        }
        Shape::Cylinder { xy, radius, z0, z1 } => {
            let (ox, oy) = (o.x - xy.x, o.y - xy.y);
            let a = d.x * d.x + d.y * d.y;
            if a < 1e-12 {
                return None;
            }
            let b = ox * d.x + oy * d.y;
            let c = ox * ox + oy * oy - radius * radius;
            let disc = b * b - a * c;
            if disc < 0.0 {
                return None;
            }
            let t = (-b - disc.sqrt()) / a;
            if t <= 0.0 || t >= limit {
                return None;
            }
            let z = o.z + t * d.z;
            if z < *z0 || z > *z1 {
                return None;
            }
            let n = Vector3::new(ox + t * d.x, oy + t * d.y, 0.0) / *radius;
            Some((t, n))
        }
        Shape::Sphere { centre, radius } => {
            let oc = o - centre;
            let b = oc.dot(d);
            let c = oc.norm_squared() - radius * radius;
            let disc = b * b - c;
            if disc < 0.0 {
                return None;
            }
            let t = -b - disc.sqrt();
            if t <= 0.0 || t >= limit {
                return None;
            }
            Some((t, (oc + d * t) / *radius))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_cylinder_sphere_hits() {
        let o = Point3::new(0.0, 0.0, 1.0);
        let d = Vector3::x();
        let boxed = Shape::Box {
            centre: Point3::new(10.0, 0.0, 2.0),
            half: Vector3::new(1.0, 1.0, 2.0),
            yaw: 0.0,
        };
        let (r, n) = intersect(&boxed, &o, &d, 100.0).unwrap();
        assert!((r - 9.0).abs() < 1e-12 && (n + Vector3::x()).norm() < 1e-12);
        let rotated = Shape::Box {
            centre: Point3::new(10.0, 0.0, 2.0),
            half: Vector3::new(1.0, 1.0, 2.0),
            yaw: std::f64::consts::FRAC_PI_4,
        };
        let (r, _) = intersect(&rotated, &o, &d, 100.0).unwrap();
        assert!((r - (10.0 - 2f64.sqrt())).abs() < 1e-9, "{r}");
        let cyl = Shape::Cylinder {
            xy: Vector2::new(5.0, 0.0),
            radius: 0.5,
            z0: 0.0,
            z1: 3.0,
        };
        assert!((intersect(&cyl, &o, &d, 100.0).unwrap().0 - 4.5).abs() < 1e-12);
        assert!(intersect(&cyl, &o, &d, 4.0).is_none(), "beyond the limit");
        let sph = Shape::Sphere {
            centre: Point3::new(0.0, 7.0, 1.0),
            radius: 2.0,
        };
        assert!((intersect(&sph, &o, &Vector3::y(), 100.0).unwrap().0 - 5.0).abs() < 1e-12);
        assert!(intersect(&sph, &o, &d, 100.0).is_none());
    }

    #[test]
    fn street_parses() {
        let p = StreetParams::builtin();
        assert!(p.buildings.setback[0] < p.buildings.setback[1]);
    }
}
