//! A 2D occupancy grid from 3D scans: the points within a height band around the sensor
//! are cast as rays on the ground plane; cells a ray passes through count as free, the cell
//! it ends in as occupied. Written in the ROS `map_server` convention: an 8-bit greyscale
//! PNG (occupied 0, free 254, unknown 205) and a YAML file beside it (`image`, `resolution`,
//! `origin`, `negate`, `occupied_thresh`, `free_thresh`, `mode`).

use crate::error::{Error, Result};
use crate::io::atomic;
use nalgebra::Point3;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::path::Path;

/// Occupied above this fraction of hits (ROS default).
pub const OCCUPIED_THRESH: f64 = 0.65;
/// Free below this fraction of hits (ROS default).
pub const FREE_THRESH: f64 = 0.196;

/// Counts per cell: rays that ended in it, rays that passed through it.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    hits: u32,
    misses: u32,
}

/// A growing occupancy grid.
#[derive(Debug, Clone)]
pub struct OccupancyGrid {
    resolution: f64,
    min_height: f64,
    max_height: f64,
    max_range: f64,
    cells: FxHashMap<(i32, i32), Counts>,
}

/// The ROS map_server metadata file.
#[derive(Debug, Serialize)]
struct MapYaml {
    image: String,
    resolution: f64,
    origin: [f64; 3],
    negate: u8,
    occupied_thresh: f64,
    free_thresh: f64,
    mode: &'static str,
}

impl OccupancyGrid {
    /// A grid of `resolution` metres per cell, taking points whose height relative to the
    /// sensor lies in `[min_height, max_height]` and whose horizontal range is at most
    /// `max_range`.
    pub fn new(resolution: f64, min_height: f64, max_height: f64, max_range: f64) -> Self {
        OccupancyGrid {
            resolution,
            min_height,
            max_height,
            max_range,
            cells: FxHashMap::default(),
        }
    }

    fn cell(&self, x: f64, y: f64) -> (i32, i32) {
        (
            (x / self.resolution).floor() as i32,
            (y / self.resolution).floor() as i32,
        )
    }

    /// Casts the rays from `origin` (the sensor, world frame) to `points` (world frame).
    pub fn add_scan(&mut self, origin: &Point3<f64>, points: &[Point3<f64>]) {
        let start = self.cell(origin.x, origin.y);
        for p in points {
            let dz = p.z - origin.z;
            let range = ((p.x - origin.x).powi(2) + (p.y - origin.y).powi(2)).sqrt();
            if dz < self.min_height || dz > self.max_height || range > self.max_range {
                continue;
            }
            let end = self.cell(p.x, p.y);
            // Bresenham from start to end; every cell before the end is free.
            let (mut x, mut y) = start;
            let (dx, dy) = ((end.0 - x).abs(), -(end.1 - y).abs());
            let (sx, sy) = (
                if x < end.0 { 1 } else { -1 },
                if y < end.1 { 1 } else { -1 },
            );
            let mut err = dx + dy;
            while (x, y) != end {
                self.cells.entry((x, y)).or_default().misses += 1;
                let e2 = 2 * err;
                if e2 >= dy {
                    err += dy;
                    x += sx;
                }
                if e2 <= dx {
                    err += dx;
                    y += sy;
                }
            }
            self.cells.entry(end).or_default().hits += 1;
        }
    }

    /// Cells observed.
    pub fn observed(&self) -> usize {
        self.cells.len()
    }

    /// Grey value of a cell: 0 occupied, 254 free, 205 unknown.
    fn value(c: Option<&Counts>) -> u8 {
        match c {
            Some(c) if c.hits + c.misses > 0 => {
                let p = c.hits as f64 / (c.hits + c.misses) as f64;
                if p > OCCUPIED_THRESH {
                    0
                } else if p < FREE_THRESH {
                    254
                } else {
                    205
                }
            }
            _ => 205,
        }
    }

    /// Writes `png` and the YAML beside it (same name, `.yaml`), both atomically. Returns
    /// the image size (width, height) in cells.
    pub fn write(&self, png: &Path) -> Result<(usize, usize)> {
        if self.cells.is_empty() {
            return Err(Error::format(
                png,
                "no point fell in the height band: empty grid",
            ));
        }
        let (mut x0, mut y0, mut x1, mut y1) = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
        for &(x, y) in self.cells.keys() {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        let (w, h) = ((x1 - x0 + 1) as usize, (y1 - y0 + 1) as usize);
        let mut pixels = vec![205u8; w * h];
        for (&(x, y), c) in &self.cells {
            // Row 0 is the top of the image: the largest y.
            let row = (y1 - y) as usize;
            pixels[row * w + (x - x0) as usize] = Self::value(Some(c));
        }
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, w as u32, h as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let err = |e: png::EncodingError| Error::format(png, format!("cannot encode PNG: {e}"));
            let mut writer = enc.write_header().map_err(err)?;
            writer.write_image_data(&pixels).map_err(err)?;
        }
        atomic::write_bytes(png, &bytes)?;
        let meta = MapYaml {
            image: png
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            resolution: self.resolution,
            origin: [
                x0 as f64 * self.resolution,
                y0 as f64 * self.resolution,
                0.0,
            ],
            negate: 0,
            occupied_thresh: OCCUPIED_THRESH,
            free_thresh: FREE_THRESH,
            mode: "trinary",
        };
        let yaml = serde_norway::to_string(&meta).map_err(|e| Error::Invalid(e.to_string()))?;
        atomic::write_bytes(&png.with_extension("yaml"), yaml.as_bytes())?;
        Ok((w, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_in_front_of_free_space() {
        let mut g = OccupancyGrid::new(0.1, -0.5, 0.5, 50.0);
        // A wall at x = 2 m from y = -1 to 1, seen from the origin; a floor point is ignored.
        let wall: Vec<Point3<f64>> = (0..=20)
            .map(|i| Point3::new(2.05, -1.0 + 0.1 * i as f64, 0.0))
            .chain([Point3::new(1.0, 0.0, -1.5)])
            .collect();
        g.add_scan(&Point3::origin(), &wall);
        assert_eq!(OccupancyGrid::value(g.cells.get(&(20, 0))), 0);
        assert_eq!(OccupancyGrid::value(g.cells.get(&(10, 0))), 254);
        assert_eq!(OccupancyGrid::value(g.cells.get(&(30, 0))), 205);
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("grid.png");
        let (w, h) = g.write(&png).unwrap();
        assert_eq!(w, 21);
        assert!(h >= 21);
        let yaml = std::fs::read_to_string(dir.path().join("grid.yaml")).unwrap();
        assert!(
            yaml.contains("image: grid.png") && yaml.contains("resolution: 0.1"),
            "{yaml}"
        );
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().width as usize, w);
    }
}
