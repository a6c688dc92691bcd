//! The picture of `lidarflow eval --plot`: on the left the top view of both trajectories
//! (the estimate moved onto the reference's first pose), on the right the position error
//! along the path. Text uses an embedded font (Hack), so no system font is needed.

use super::report::Report;
use crate::error::{Error, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

static FONT: Once = Once::new();

pub(crate) fn register_font() {
    FONT.call_once(|| {
        // Only fails on bytes that are not a font; these are.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            epaint_default_fonts::HACK_REGULAR,
        );
    });
}

/// Draws `report` into a PNG of `width` x `height` pixels, titled `title`.
pub fn draw(report: &Report, title: &str, path: &Path, width: u32, height: u32) -> Result<()> {
    register_font();
    let err = |e: String| Error::format(path, format!("cannot draw the plot: {e}"));
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| err(e.to_string()))?;
    let (left, right) = root.split_horizontally(width / 2);

    // Top view with equal scales on both axes.
    let xy = report.top_view.iter().flat_map(|(r, e)| [r, e]);
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in xy {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    if !x0.is_finite() {
        return Err(err("no poses".into()));
    }
    let span = (x1 - x0).max(y1 - y0).max(1.0) * 1.08;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let mut top = ChartBuilder::on(&left)
        .caption("top view (m)", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(
            cx - span / 2.0..cx + span / 2.0,
            cy - span / 2.0..cy + span / 2.0,
        )
        .map_err(|e| err(e.to_string()))?;
    top.configure_mesh()
        .x_desc("x")
        .y_desc("y")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let blue = RGBColor(0, 110, 220);
    let orange = RGBColor(240, 120, 0);
    top.draw_series(LineSeries::new(
        report.top_view.iter().map(|(r, _)| (r[0], r[1])),
        blue.stroke_width(2),
    ))
    .map_err(|e| err(e.to_string()))?
    .label("reference")
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    top.draw_series(LineSeries::new(
        report.top_view.iter().map(|(_, e)| (e[0], e[1])),
        orange.stroke_width(2),
    ))
    .map_err(|e| err(e.to_string()))?
    .label("estimate")
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2)));
    top.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| err(e.to_string()))?;

    // Error along the path.
    let dmax = report.along_path.last().map_or(1.0, |p| p.0).max(1e-6);
    let emax = report
        .along_path
        .iter()
        .map(|p| p.1)
        .fold(0.0, f64::max)
        .max(1e-6)
        * 1.1;
    let mut err_chart = ChartBuilder::on(&right)
        .caption(
            format!(
                "position error, origin aligned: rmse {:.3} m, max {:.3} m",
                report.ate_origin.rmse, report.ate_origin.max
            ),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..dmax, 0.0..emax)
        .map_err(|e| err(e.to_string()))?;
    err_chart
        .configure_mesh()
        .x_desc("distance along the reference path (m)")
        .y_desc("error (m)")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    err_chart
        .draw_series(LineSeries::new(
            report.along_path.iter().copied(),
            RGBColor(200, 30, 30).stroke_width(2),
        ))
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
