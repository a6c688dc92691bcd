//! An Ouster sensor's metadata `.json`, as the sensor (`get_metadata`) and the vendor SDK
//! write it, in either of its two layouts:
//!
//! - the flat layout of firmware before 2.4 and of early SDKs: `beam_altitude_angles`,
//!   `lidar_mode`, `data_format`, `lidar_to_sensor_transform`... at the top level (the oldest
//!   files hold nothing but the beam angles and the lidar mode);
//! - the nested layout of newer firmware: `sensor_info`, `lidar_data_format`,
//!   `beam_intrinsics`, `lidar_intrinsics`, `config_params`.
//!
//! The flat layout is moved into the nested one first (as the SDK does), then one parser
//! reads it. Fields the oldest files lack take the values the vendor documents for them: the
//! data format of the lidar mode (16 columns per packet, LEGACY profile, every column), the
//! product line's `lidar_origin_to_beam_origin_mm` and the default `lidar_to_sensor_transform`
//! (a half turn about z and 36.18 mm up).

use crate::error::{Error, Result};
use nalgebra::Matrix4;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Most pixels per column any Ouster sensor has (OS-128 has 128); more is not a sensor's.
pub const MAX_PIXELS_PER_COLUMN: usize = 1024;
/// Most columns per frame (measurement ids are 16 bits).
pub const MAX_COLUMNS_PER_FRAME: usize = 65536;
/// Most pixels in a frame (4096 columns of 256 beams): the XYZ lookup table holds two vectors
/// per pixel, and a metadata file asking for more is not a sensor's.
pub const MAX_PIXELS_PER_FRAME: usize = 1 << 20;
/// A UDP datagram holds at most this many bytes.
pub const MAX_PACKET_BYTES: usize = 65507;

/// The lidar data profiles (`udp_profile_lidar`) this reader decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Firmware before 2.2 (and later ones set to it): 12-byte pixels (20-bit range in mm,
    /// 16-bit reflectivity, signal, near-IR), no packet header, a status word after each
    /// column.
    Legacy,
    /// Single return: 12-byte pixels, 19-bit range in mm, 8-bit reflectivity, 16-bit signal
    /// and near-IR.
    Rng19Rfl8Sig16Nir16,
    /// Dual return: 16-byte pixels, two 19-bit ranges with their reflectivity and signal, and
    /// near-IR. The first (strongest) return is read.
    Rng19Rfl8Sig16Nir16Dual,
    /// Low bandwidth: 4-byte pixels, 15-bit range in units of 8 mm, 8-bit reflectivity,
    /// 8-bit near-IR (in units of 16).
    Rng15Rfl8Nir8,
}

impl Profile {
    /// Every profile, in the order messages list them.
    pub const ALL: [Profile; 4] = [
        Profile::Legacy,
        Profile::Rng19Rfl8Sig16Nir16,
        Profile::Rng19Rfl8Sig16Nir16Dual,
        Profile::Rng15Rfl8Nir8,
    ];

    /// The profile named `name` as the metadata spells it.
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The name the metadata gives the profile.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Legacy => "LEGACY",
            Profile::Rng19Rfl8Sig16Nir16 => "RNG19_RFL8_SIG16_NIR16",
            Profile::Rng19Rfl8Sig16Nir16Dual => "RNG19_RFL8_SIG16_NIR16_DUAL",
            Profile::Rng15Rfl8Nir8 => "RNG15_RFL8_NIR8",
        }
    }

    /// Bytes of one pixel (one beam's measurement in one column).
    pub fn pixel_bytes(self) -> usize {
        match self {
            Profile::Legacy | Profile::Rng19Rfl8Sig16Nir16 => 12,
            Profile::Rng19Rfl8Sig16Nir16Dual => 16,
            Profile::Rng15Rfl8Nir8 => 4,
        }
    }
}

/// What a lidar packet decoder and the XYZ lookup table need from the metadata, and what
/// `lidarflow info` says about the sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct OusterMeta {
    /// The metadata file (for messages).
    pub path: PathBuf,
    /// Product line (`OS-1-128`), when the file says.
    pub prod_line: Option<String>,
    /// Firmware (`build_rev`, `v2.3.0`), when the file says.
    pub firmware: Option<String>,
    /// Serial number (`prod_sn`), when the file says.
    pub serial: Option<String>,
    /// Lidar mode (`1024x10`), when the file says.
    pub lidar_mode: Option<String>,
    /// The initialization id that the packets of this sensor session carry, when known.
    pub init_id: Option<u32>,
    /// The lidar data profile.
    pub profile: Profile,
    /// Columns (measurement ids) in a full rotation.
    pub columns_per_frame: usize,
    /// Pixels (beams) per column.
    pub pixels_per_column: usize,
    /// Columns in one lidar packet.
    pub columns_per_packet: usize,
    /// First and last measurement id the sensor sends (inclusive; the window wraps past
    /// the last column when `first > last`).
    pub column_window: (usize, usize),
    /// The UDP port lidar packets were sent to, when the file says (0 counts as unsaid).
    pub udp_port_lidar: Option<u16>,
    /// The UDP port IMU packets were sent to, when the file says.
    pub udp_port_imu: Option<u16>,
    /// Elevation of each beam, degrees.
    pub beam_altitude_angles: Vec<f64>,
    /// Azimuth offset of each beam from the encoder angle, degrees.
    pub beam_azimuth_angles: Vec<f64>,
    /// Beam origin in the lidar frame: translation column in mm (x is the
    /// `lidar_origin_to_beam_origin_mm` offset along the beam origin, z an offset along the
    /// axis).
    pub beam_to_lidar_transform: Matrix4<f64>,
    /// Lidar frame to sensor frame, translation in mm.
    pub lidar_to_sensor_transform: Matrix4<f64>,
}

/// The vendor's default lidar to sensor transform (a half turn about z, 36.18 mm up).
pub fn default_lidar_to_sensor() -> Matrix4<f64> {
    Matrix4::new(
        -1.0, 0.0, 0.0, 0.0, //
        0.0, -1.0, 0.0, 0.0, //
        0.0, 0.0, 1.0, 36.18, //
        0.0, 0.0, 0.0, 1.0,
    )
}

/// The vendor's `lidar_origin_to_beam_origin_mm` for a product line whose metadata predates
/// the field (firmware before 1.14).
pub fn default_origin_to_beam_mm(prod_line: Option<&str>) -> f64 {
    match prod_line {
        Some(p) if p.starts_with("OS-0-") => 27.67,
        Some(p) if p.starts_with("OS-1-") => 15.806,
        Some(p) if p.starts_with("OS-2-") => 13.762,
        // The first generation's.
        _ => 12.163,
    }
}

/// Columns per frame of a lidar mode (`1024x10` → 1024).
pub fn columns_of_mode(mode: &str) -> Option<usize> {
    let (cols, rate) = mode.split_once('x')?;
    let cols: usize = cols.trim().parse().ok()?;
    let _: u32 = rate.trim().parse().ok()?;
    (cols > 0 && cols <= MAX_COLUMNS_PER_FRAME).then_some(cols)
}

/// Reads and checks a metadata file.
pub fn read(path: &Path) -> Result<OusterMeta> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(path, &text)
}

/// Parses metadata text; `path` names the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<OusterMeta> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        Error::format(
            path,
            format!("not JSON ({e}); an Ouster capture needs the sensor's metadata .json"),
        )
    })?;
    let Value::Object(root) = root else {
        return Err(Error::format(
            path,
            "the metadata is not a JSON object; an Ouster capture needs the sensor's metadata \
             .json",
        ));
    };
    let nested = to_nested(root);
    Fields {
        path,
        root: &nested,
    }
    .meta()
}

/// The sections of the nested layout and the top-level fields of the flat layout that
/// belong in each.
const FLAT_TO_NESTED: [(&str, &str); 15] = [
    ("lidar_to_sensor_transform", "lidar_intrinsics"),
    ("imu_to_sensor_transform", "imu_intrinsics"),
    ("udp_port_imu", "config_params"),
    ("udp_port_lidar", "config_params"),
    ("lidar_mode", "config_params"),
    ("lidar_origin_to_beam_origin_mm", "beam_intrinsics"),
    ("beam_altitude_angles", "beam_intrinsics"),
    ("beam_azimuth_angles", "beam_intrinsics"),
    ("beam_to_lidar_transform", "beam_intrinsics"),
    ("prod_line", "sensor_info"),
    ("prod_sn", "sensor_info"),
    ("prod_pn", "sensor_info"),
    ("initialization_id", "sensor_info"),
    ("build_rev", "sensor_info"),
    ("image_rev", "sensor_info"),
];

/// Moves the flat layout's top-level fields into the nested layout's sections; a nested file
/// is left as it is (top-level fields only fill what its sections lack).
fn to_nested(mut root: Map<String, Value>) -> Value {
    if let Some(format) = root.remove("data_format") {
        root.entry("lidar_data_format").or_insert(format);
    }
    for (field, section) in FLAT_TO_NESTED {
        if let Some(v) = root.remove(field) {
            let s = root
                .entry(section)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(s) = s {
                s.entry(field).or_insert(v);
            }
        }
    }
    Value::Object(root)
}

/// Typed access to the nested layout, with errors naming the file and the field.
struct Fields<'a> {
    path: &'a Path,
    root: &'a Value,
}

impl Fields<'_> {
    fn get(&self, section: &str, field: &str) -> Option<&Value> {
        self.root.get(section)?.get(field).filter(|v| !v.is_null())
    }

    fn wrong(&self, section: &str, field: &str, what: &str) -> Error {
        Error::format(self.path, format!("field `{section}.{field}`: {what}"))
    }

    fn missing(&self, section: &str, field: &str) -> Error {
        Error::format(
            self.path,
            format!(
                "the metadata lacks the field `{section}.{field}` (`{field}` at the top level \
                 in the older flat layout); is this the sensor's metadata .json?"
            ),
        )
    }

    fn string(&self, section: &str, field: &str) -> Option<String> {
        match self.get(section, field)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn uint(&self, section: &str, field: &str, max: u64) -> Result<Option<u64>> {
        let Some(v) = self.get(section, field) else {
            return Ok(None);
        };
        if v.as_str().is_some_and(|s| s.trim().is_empty()) {
            return Ok(None);
        }
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match n {
            Some(n) if n <= max => Ok(Some(n)),
            _ => Err(self.wrong(
                section,
                field,
                &format!("expected a whole number from 0 to {max}, found {v}"),
            )),
        }
    }

    fn number(&self, section: &str, field: &str) -> Result<Option<f64>> {
        match self.get(section, field) {
            None => Ok(None),
            Some(v) => match v.as_f64().filter(|x| x.is_finite()) {
                Some(x) => Ok(Some(x)),
                None => Err(self.wrong(section, field, &format!("expected a number, found {v}"))),
            },
        }
    }

    fn numbers(&self, section: &str, field: &str) -> Result<Option<Vec<f64>>> {
        let Some(v) = self.get(section, field) else {
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(self.wrong(section, field, "expected an array of numbers"));
        };
        items
            .iter()
            .map(|x| {
                x.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
                    self.wrong(
                        section,
                        field,
                        &format!("expected an array of numbers, found {x} in it"),
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()
            .map(Some)
    }

    fn transform(&self, section: &str, field: &str) -> Result<Option<Matrix4<f64>>> {
        match self.numbers(section, field)? {
            None => Ok(None),
            Some(v) if v.len() == 16 => Ok(Some(Matrix4::from_row_slice(&v))),
            Some(v) => Err(self.wrong(
                section,
                field,
                &format!(
                    "expected 16 numbers (a 4x4 matrix, row by row), found {}",
                    v.len()
                ),
            )),
        }
    }

    fn meta(&self) -> Result<OusterMeta> {
        let prod_line = self.string("sensor_info", "prod_line");
        let lidar_mode = self.string("config_params", "lidar_mode");
        let mode_columns = match &lidar_mode {
            Some(m) => Some(columns_of_mode(m).ok_or_else(|| {
                self.wrong(
                    "config_params",
                    "lidar_mode",
                    &format!("`{m}` is not a lidar mode (COLUMNSxRATE, as 1024x10)"),
                )
            })?),
            None => None,
        };
        let columns_per_frame = match self.uint(
            "lidar_data_format",
            "columns_per_frame",
            MAX_COLUMNS_PER_FRAME as u64,
        )? {
            Some(c) => c as usize,
            None => mode_columns.ok_or_else(|| self.missing("config_params", "lidar_mode"))?,
        };
        if columns_per_frame == 0 {
            return Err(self.wrong("lidar_data_format", "columns_per_frame", "is 0"));
        }

        let altitude = self
            .numbers("beam_intrinsics", "beam_altitude_angles")?
            .ok_or_else(|| self.missing("beam_intrinsics", "beam_altitude_angles"))?;
        let azimuth = self
            .numbers("beam_intrinsics", "beam_azimuth_angles")?
            .ok_or_else(|| self.missing("beam_intrinsics", "beam_azimuth_angles"))?;
        let pixels_per_column = match self.uint(
            "lidar_data_format",
            "pixels_per_column",
            MAX_PIXELS_PER_COLUMN as u64,
        )? {
            Some(p) => p as usize,
            None => altitude.len(),
        };
        if pixels_per_column == 0 {
            return Err(self.wrong("lidar_data_format", "pixels_per_column", "is 0"));
        }
        if columns_per_frame.saturating_mul(pixels_per_column) > MAX_PIXELS_PER_FRAME {
            return Err(self.wrong(
                "lidar_data_format",
                "columns_per_frame",
                &format!(
                    "{columns_per_frame} columns of {pixels_per_column} pixels is more than any \
                     Ouster sensor measures ({MAX_PIXELS_PER_FRAME} pixels per frame at most)"
                ),
            ));
        }
        for (field, angles) in [
            ("beam_altitude_angles", &altitude),
            ("beam_azimuth_angles", &azimuth),
        ] {
            if angles.len() != pixels_per_column {
                return Err(self.wrong(
                    "beam_intrinsics",
                    field,
                    &format!(
                        "{} angles for {pixels_per_column} pixels per column (one per beam \
                         expected)",
                        angles.len()
                    ),
                ));
            }
        }

        let columns_per_packet = match self.uint("lidar_data_format", "columns_per_packet", 4096)? {
            Some(c) => c as usize,
            None => self
                .uint("config_params", "columns_per_packet", 4096)?
                .map(|c| c as usize)
                .unwrap_or(16),
        };
        if columns_per_packet == 0 {
            return Err(self.wrong("lidar_data_format", "columns_per_packet", "is 0"));
        }

        let profile_name = self
            .string("lidar_data_format", "udp_profile_lidar")
            .or_else(|| self.string("config_params", "udp_profile_lidar"));
        let profile = match profile_name {
            None => Profile::Legacy,
            Some(name) => Profile::from_name(&name).ok_or_else(|| {
                self.wrong(
                    "lidar_data_format",
                    "udp_profile_lidar",
                    &format!(
                        "the profile `{name}` is not one this reader decodes ({})",
                        Profile::ALL.map(Profile::name).join(", ")
                    ),
                )
            })?,
        };
        let header_type = self
            .string("lidar_data_format", "header_type")
            .or_else(|| self.string("config_params", "header_type"));
        if let Some(h) = header_type.filter(|h| h != "STANDARD") {
            return Err(self.wrong(
                "lidar_data_format",
                "header_type",
                &format!("packet header type `{h}`: only STANDARD headers are decoded"),
            ));
        }
        let packet_bytes =
            super::ouster::PacketLayout::new(profile, pixels_per_column, columns_per_packet)
                .packet_bytes;
        if packet_bytes > MAX_PACKET_BYTES {
            return Err(self.wrong(
                "lidar_data_format",
                "columns_per_packet",
                &format!(
                    "{columns_per_packet} columns of {pixels_per_column} pixels make \
                     {packet_bytes}-byte packets, more than a UDP datagram holds"
                ),
            ));
        }

        let column_window = match self.numbers("lidar_data_format", "column_window")? {
            None => (0, columns_per_frame - 1),
            Some(w) => {
                let ok = |x: f64| x >= 0.0 && x.fract() == 0.0 && (x as usize) < columns_per_frame;
                match w.as_slice() {
                    [a, b] if ok(*a) && ok(*b) => (*a as usize, *b as usize),
                    _ => {
                        return Err(self.wrong(
                            "lidar_data_format",
                            "column_window",
                            &format!(
                                "expected [first, last] measurement ids below \
                                 {columns_per_frame}, found {w:?}"
                            ),
                        ))
                    }
                }
            }
        };

        let port = |field: &str| -> Result<Option<u16>> {
            Ok(self
                .uint("config_params", field, u16::MAX as u64)?
                .map(|p| p as u16)
                .filter(|p| *p != 0))
        };
        let udp_port_lidar = port("udp_port_lidar")?;
        let udp_port_imu = port("udp_port_imu")?;
        let init_id = self
            .uint("sensor_info", "initialization_id", u32::MAX as u64)?
            .map(|i| i as u32);

        let origin_mm = self
            .number("beam_intrinsics", "lidar_origin_to_beam_origin_mm")?
            .unwrap_or_else(|| default_origin_to_beam_mm(prod_line.as_deref()));
        let beam_to_lidar_transform =
            match self.transform("beam_intrinsics", "beam_to_lidar_transform")? {
                Some(t) => t,
                None => {
                    let mut t = Matrix4::identity();
                    t[(0, 3)] = origin_mm;
                    t
                }
            };
        let lidar_to_sensor_transform = self
            .transform("lidar_intrinsics", "lidar_to_sensor_transform")?
            .unwrap_or_else(default_lidar_to_sensor);

        Ok(OusterMeta {
            path: self.path.to_path_buf(),
            prod_line,
            firmware: self.string("sensor_info", "build_rev"),
            serial: self.string("sensor_info", "prod_sn"),
            lidar_mode,
            init_id,
            profile,
            columns_per_frame,
            pixels_per_column,
            columns_per_packet,
            column_window,
            udp_port_lidar,
            udp_port_imu,
            beam_altitude_angles: altitude,
            beam_azimuth_angles: azimuth,
            beam_to_lidar_transform,
            lidar_to_sensor_transform,
        })
    }
}

impl OusterMeta {
    /// Whether measurement id `m` is inside the column window.
    pub fn in_window(&self, m: usize) -> bool {
        let (first, last) = self.column_window;
        if first <= last {
            (first..=last).contains(&m)
        } else {
            m >= first || m <= last
        }
    }

    /// Columns inside the column window (a full frame's worth).
    pub fn window_columns(&self) -> usize {
        let (first, last) = self.column_window;
        if first <= last {
            last - first + 1
        } else {
            self.columns_per_frame - first + last + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("sensor.json")
    }

    fn nested(profile: &str) -> String {
        format!(
            r#"{{
              "sensor_info": {{"prod_line": "OS-0-32", "build_rev": "v2.5.1", "prod_sn": "992109000000",
                               "initialization_id": 5431292}},
              "config_params": {{"lidar_mode": "512x20", "udp_port_lidar": 7000, "udp_port_imu": 7001}},
              "lidar_data_format": {{"columns_per_frame": 512, "pixels_per_column": 4,
                  "columns_per_packet": 8, "column_window": [500, 10],
                  "udp_profile_lidar": "{profile}", "udp_profile_imu": "LEGACY"}},
              "beam_intrinsics": {{"beam_altitude_angles": [10, 5, -5, -10],
                  "beam_azimuth_angles": [1, -1, 1, -1], "lidar_origin_to_beam_origin_mm": 27.67,
                  "beam_to_lidar_transform": [1,0,0,27.67, 0,1,0,0, 0,0,1,3.5, 0,0,0,1]}},
              "lidar_intrinsics": {{"lidar_to_sensor_transform": [1,0,0,0, 0,1,0,0, 0,0,1,38.2, 0,0,0,1]}},
              "imu_intrinsics": {{"imu_to_sensor_transform": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,0,1]}},
              "calibration_status": {{}}
            }}"#
        )
    }

    #[test]
    fn nested_layout_is_read() {
        let m = parse(p(), &nested("RNG19_RFL8_SIG16_NIR16_DUAL")).unwrap();
        assert_eq!(m.profile, Profile::Rng19Rfl8Sig16Nir16Dual);
        assert_eq!(m.columns_per_frame, 512);
        assert_eq!(m.pixels_per_column, 4);
        assert_eq!(m.columns_per_packet, 8);
        assert_eq!(m.column_window, (500, 10));
        assert_eq!(m.udp_port_lidar, Some(7000));
        assert_eq!(m.init_id, Some(5431292));
        assert_eq!(m.prod_line.as_deref(), Some("OS-0-32"));
        assert_eq!(m.firmware.as_deref(), Some("v2.5.1"));
        assert_eq!(m.beam_to_lidar_transform[(2, 3)], 3.5);
        assert_eq!(m.lidar_to_sensor_transform[(2, 3)], 38.2);
        // A window wrapping past the last column.
        assert!(m.in_window(505) && m.in_window(0) && m.in_window(10));
        assert!(!m.in_window(11) && !m.in_window(499));
        assert_eq!(m.window_columns(), 12 + 11);
    }

    #[test]
    fn oldest_flat_layout_takes_documented_defaults() {
        let text = r#"{"beam_altitude_angles": [2, 1, -1], "beam_azimuth_angles": [3, 0, -3],
                       "lidar_mode": "2048x10"}"#;
        let m = parse(p(), text).unwrap();
        assert_eq!(m.profile, Profile::Legacy);
        assert_eq!(m.columns_per_frame, 2048);
        assert_eq!(m.pixels_per_column, 3);
        assert_eq!(m.columns_per_packet, 16);
        assert_eq!(m.column_window, (0, 2047));
        // No product line: the first generation's beam origin offset.
        assert_eq!(m.beam_to_lidar_transform[(0, 3)], 12.163);
        assert_eq!(m.lidar_to_sensor_transform, default_lidar_to_sensor());
        assert_eq!(m.udp_port_lidar, None);
    }

    #[test]
    fn flat_layout_with_data_format() {
        let text = r#"{"beam_altitude_angles": [2, 1], "beam_azimuth_angles": [3, 0],
            "lidar_mode": "1024x10", "prod_line": "OS-2-128", "udp_port_lidar": 7502,
            "data_format": {"columns_per_frame": 1024, "columns_per_packet": 16,
               "pixels_per_column": 2, "column_window": [0, 1023],
               "udp_profile_lidar": "RNG15_RFL8_NIR8"},
            "lidar_to_sensor_transform": [-1,0,0,0, 0,-1,0,0, 0,0,1,36.18, 0,0,0,1]}"#;
        let m = parse(p(), text).unwrap();
        assert_eq!(m.profile, Profile::Rng15Rfl8Nir8);
        assert_eq!(m.prod_line.as_deref(), Some("OS-2-128"));
        // The product line's offset, as no field gives it.
        assert_eq!(m.beam_to_lidar_transform[(0, 3)], 13.762);
        assert_eq!(m.udp_port_lidar, Some(7502));
        // An empty string says nothing.
        let m = parse(p(), &text.replace("7502", "\"\"")).unwrap();
        assert_eq!(m.udp_port_lidar, None);
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let e = parse(
            p(),
            r#"{"lidar_mode": "1024x10", "beam_azimuth_angles": [1]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("sensor.json") && e.contains("beam_altitude_angles"),
            "{e}"
        );
        let e = parse(
            p(),
            r#"{"beam_altitude_angles": [1], "beam_azimuth_angles": [1]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("lidar_mode"), "{e}");
        let e = parse(p(), &nested("FIVE_WORD_PIXEL"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("FIVE_WORD_PIXEL") && e.contains("RNG15_RFL8_NIR8"),
            "{e}"
        );
        let e = parse(p(), &nested("LEGACY").replace("[500, 10]", "[0, 512]"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("column_window"), "{e}");
        let angles = format!("[{}]", vec!["1"; 32].join(", "));
        let huge = format!(
            r#"{{"beam_altitude_angles": {angles}, "beam_azimuth_angles": {angles},
                "data_format": {{"columns_per_frame": 65536}}}}"#
        );
        let e = parse(p(), &huge).unwrap_err().to_string();
        assert!(e.contains("more than any"), "{e}");
        let e = parse(p(), "[1, 2]").unwrap_err().to_string();
        assert!(e.contains("sensor.json"), "{e}");
        let e = parse(p(), "{\"beam").unwrap_err().to_string();
        assert!(e.contains("not JSON"), "{e}");
        let e = parse(
            p(),
            &nested("LEGACY").replace("\"lidar_mode\": \"512x20\"", "\"lidar_mode\": \"fast\""),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("config_params.lidar_mode"), "{e}");
    }
}
