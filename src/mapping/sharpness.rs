//! How sharp a built point cloud is: for sampled points, the distance to the plane fitted
//! to their nearest neighbours. A map built with the right motion has thin walls and
//! floors; skewed scans smear them, and the point-to-plane residual grows.

use crate::geometry::fit_plane;
use kiddo::{ImmutableKdTree, SquaredEuclidean};
use nalgebra::Point3;
use rayon::prelude::*;
use std::num::NonZero;

/// Point-to-plane residuals of a cloud.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Sharpness {
    /// Points whose neighbourhood was planar enough to count.
    pub planar_points: usize,
    /// Median distance to the local plane, metres.
    pub median: f64,
    /// Mean distance, metres.
    pub mean: f64,
}

/// Residuals of every `stride`-th point against the plane of its `k` nearest neighbours
/// within `radius`; neighbourhoods that are not planar (smallest eigenvalue above a tenth
/// of the middle one: edges, vegetation; or points on a line) are left out, so the figure measures walls and
/// ground.
pub fn point_to_plane(points: &[Point3<f64>], k: usize, radius: f64, stride: usize) -> Sharpness {
    let coords: Vec<[f64; 3]> = points.iter().map(|p| [p.x, p.y, p.z]).collect();
    let tree: ImmutableKdTree<f64, 3> =
        ImmutableKdTree::new_from_slice(&coords).expect("fewer than 2^32 points");
    let k = NonZero::new(k.max(4)).expect("at least 4");
    let mut residuals: Vec<f64> = (0..points.len())
        .into_par_iter()
        .step_by(stride.max(1))
        .filter_map(|i| {
            let p = points[i];
            let nn = tree
                .query(&coords[i])
                .nearest_n::<SquaredEuclidean<f64>>(k)
                .within(radius * radius)
                .execute();
            if nn.len() < k.get() {
                return None;
            }
            let ns: Vec<Point3<f64>> = nn.iter().map(|n| points[n.item as usize]).collect();
            let (centroid, normal) = fit_plane(&ns, 0.1)?;
            Some((p - centroid).dot(&normal).abs())
        })
        .collect();
    if residuals.is_empty() {
        return Sharpness {
            planar_points: 0,
            median: f64::NAN,
            mean: f64::NAN,
        };
    }
    residuals.sort_by(f64::total_cmp);
    Sharpness {
        planar_points: residuals.len(),
        median: residuals[residuals.len() / 2],
        mean: residuals.iter().sum::<f64>() / residuals.len() as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(noise: f64) -> Vec<Point3<f64>> {
        (0..40)
            .flat_map(|i| {
                (0..40).map(move |j| {
                    let z = noise * (((i * 7 + j * 13) % 11) as f64 / 5.0 - 1.0);
                    Point3::new(0.05 * i as f64, 0.05 * j as f64, z)
                })
            })
            .collect()
    }

    #[test]
    fn thicker_planes_score_worse() {
        let thin = point_to_plane(&plane(0.001), 10, 0.5, 3);
        let thick = point_to_plane(&plane(0.02), 10, 0.5, 3);
        assert!(thin.planar_points > 100);
        assert!(thin.median < 0.002, "{thin:?}");
        assert!(thick.median > 3.0 * thin.median, "{thin:?} {thick:?}");
    }
}
