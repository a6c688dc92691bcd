//! The picture of `lidarflow eval --relations --plot`: the estimated path from above, with
//! the relations of largest translational error drawn as red segments between their two
//! poses (numbered from the worst), so a user sees where the estimate went wrong.

use super::relations::RelationsReport;
use crate::error::{Error, Result};
use crate::io::trajectory::Trajectory;
use plotters::prelude::*;
use std::path::Path;

/// Draws `estimate`'s path and the `worst` relations of `report` with the largest
/// translational error into a PNG of `size` × `size` pixels.
pub fn draw(
    estimate: &Trajectory,
    report: &RelationsReport,
    worst: usize,
    title: &str,
    path: &Path,
    size: u32,
) -> Result<()> {
    super::plot::register_font();
    let err = |e: String| Error::format(path, format!("cannot draw the plot: {e}"));
    let xy: Vec<(f64, f64)> = estimate
        .poses
        .iter()
        .map(|p| (p.translation.vector.x, p.translation.vector.y))
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (x, y) in &xy {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if !x0.is_finite() {
        return Err(err("no poses".into()));
    }
    let span = (x1 - x0).max(y1 - y0).max(1.0) * 1.08;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let root = BitMapBackend::new(path, (size, size)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(
            cx - span / 2.0..cx + span / 2.0,
            cy - span / 2.0..cy + span / 2.0,
        )
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("x (m)")
        .y_desc("y (m)")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let blue = RGBColor(0, 110, 220);
    chart
        .draw_series(LineSeries::new(xy.iter().copied(), blue.stroke_width(1)))
        .map_err(|e| err(e.to_string()))?
        .label("estimated path")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    let mut ranked: Vec<_> = report.errors.iter().collect();
    ranked.sort_by(|a, b| b.translation.total_cmp(&a.translation));
    let red = RGBColor(220, 30, 30);
    let at = |i: usize| xy.get(i).copied();
    let mut first = true;
    for (k, e) in ranked.iter().take(worst).enumerate() {
        let (Some(a), Some(b)) = (at(e.i1), at(e.i2)) else {
            continue;
        };
        let series = chart
            .draw_series([
                PathElement::new(vec![a, b], red.stroke_width(2)).into_dyn(),
                Circle::new(a, 3, red.filled()).into_dyn(),
                Circle::new(b, 3, red.filled()).into_dyn(),
                Text::new(format!("{}", k + 1), b, ("sans-serif", 13)).into_dyn(),
            ])
            .map_err(|e| err(e.to_string()))?;
        if first {
            series
                .label(format!(
                    "the {} worst relations (largest {:.3} m, {:.2}°)",
                    worst.min(ranked.len()),
                    e.translation,
                    e.rotation_deg
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(2))
                });
            first = false;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
