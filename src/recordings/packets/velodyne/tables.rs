//! The fixed facts of each Velodyne model, from Velodyne's user manuals: laser elevation
//! tables, per-laser azimuth and vertical offsets, distance units and firing timing.
//!
//! Sources (the manuals' chapter 9, "Sensor Data"): VLP-16 User Manual 63-9243 (table 9-1:
//! VLP-16, Puck LITE and Puck Hi-Res elevations and vertical corrections; firing timing
//! 2.304 µs per laser, 55.296 µs per firing sequence, two sequences per data block), VLP-32C
//! User Manual 63-9325 (table 9-2: elevations and azimuth offsets; lasers fired in pairs every
//! 2.304 µs, one 55.296 µs sequence per block; distances in 4 mm units), HDL-32E User Manual
//! and application note 63-9277 (elevations; one laser every 1.152 µs, 40 slots = 46.08 µs per
//! block). The factory byte values are those of the manuals' "Factory Bytes" section.

/// A Velodyne sensor model this decoder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// VLP-16 ("Puck"): 16 lasers, ±15°.
    Vlp16,
    /// Puck LITE: the VLP-16's optics in a lighter housing (same table).
    PuckLite,
    /// Puck Hi-Res: 16 lasers over ±10°.
    PuckHiRes,
    /// VLP-32C (Ultra Puck): 32 lasers, -25° to +15°, lasers fired in pairs.
    Vlp32C,
    /// HDL-32E: 32 lasers, -30.67° to +10.67°.
    Hdl32E,
}

/// Every model, for messages listing what is accepted.
pub const MODELS: [Model; 5] = [
    Model::Vlp16,
    Model::PuckLite,
    Model::PuckHiRes,
    Model::Vlp32C,
    Model::Hdl32E,
];

/// Per-laser constants of one model, indexed by the laser's channel in a data block (for
/// 16-laser models, channels 16..31 of a block are the same lasers' second firing).
#[derive(Debug)]
pub struct LaserTable {
    /// Elevation (vertical angle) of each laser, degrees, up positive.
    pub elevation_deg: &'static [f64],
    /// Horizontal offset of each laser from the block's azimuth, degrees, added to it
    /// (VLP-32C; zero elsewhere).
    pub azimuth_offset_deg: &'static [f64],
    /// Vertical offset of each laser from the sensor origin, metres, added to z (VLP-16,
    /// Puck LITE, Puck Hi-Res; zero elsewhere).
    pub vertical_offset_m: &'static [f64],
    /// One distance unit, metres.
    pub distance_unit_m: f64,
}

const ZERO_16: [f64; 16] = [0.0; 16];
const ZERO_32: [f64; 32] = [0.0; 32];

const VLP16_ELEVATION: [f64; 16] = [
    -15.0, 1.0, -13.0, 3.0, -11.0, 5.0, -9.0, 7.0, -7.0, 9.0, -5.0, 11.0, -3.0, 13.0, -1.0, 15.0,
];
/// VLP-16 and Puck LITE vertical corrections, millimetres (table 9-1), as metres.
const VLP16_VERTICAL: [f64; 16] = [
    0.0112, -0.0007, 0.0097, -0.0022, 0.0081, -0.0037, 0.0066, -0.0051, 0.0051, -0.0066, 0.0037,
    -0.0081, 0.0022, -0.0097, 0.0007, -0.0112,
];
const HIRES_ELEVATION: [f64; 16] = [
    -10.0, 0.67, -8.67, 2.0, -7.33, 3.33, -6.0, 4.67, -4.67, 6.0, -3.33, 7.33, -2.0, 8.67, -0.67,
    10.0,
];
/// Puck Hi-Res vertical corrections, millimetres (table 9-1), as metres.
const HIRES_VERTICAL: [f64; 16] = [
    0.0074, -0.0009, 0.0065, -0.0018, 0.0055, -0.0027, 0.0046, -0.0037, 0.0037, -0.0046, 0.0027,
    -0.0055, 0.0018, -0.0065, 0.0009, -0.0074,
];
const VLP32C_ELEVATION: [f64; 32] = [
    -25.0, -1.0, -1.667, -15.639, -11.31, 0.0, -0.667, -8.843, -7.254, 0.333, -0.333, -6.148,
    -5.333, 1.333, 0.667, -4.0, -4.667, 1.667, 1.0, -3.667, -3.333, 3.333, 2.333, -2.667, -3.0,
    7.0, 4.667, -2.333, -2.0, 15.0, 10.333, -1.333,
];
/// VLP-32C azimuth offsets δ (table 9-2), degrees, added to the block's azimuth.
const VLP32C_AZIMUTH: [f64; 32] = [
    1.4, -4.2, 1.4, -1.4, 1.4, -1.4, 4.2, -1.4, 1.4, -4.2, 1.4, -1.4, 4.2, -1.4, 4.2, -1.4, 1.4,
    -4.2, 1.4, -4.2, 4.2, -1.4, 1.4, -1.4, 1.4, -1.4, 1.4, -4.2, 4.2, -1.4, 1.4, -1.4,
];
const HDL32E_ELEVATION: [f64; 32] = [
    -30.67, -9.33, -29.33, -8.0, -28.0, -6.67, -26.67, -5.33, -25.33, -4.0, -24.0, -2.67, -22.67,
    -1.33, -21.33, 0.0, -20.0, 1.33, -18.67, 2.67, -17.33, 4.0, -16.0, 5.33, -14.67, 6.67, -13.33,
    8.0, -12.0, 9.33, -10.67, 10.67,
];

static VLP16_TABLE: LaserTable = LaserTable {
    elevation_deg: &VLP16_ELEVATION,
    azimuth_offset_deg: &ZERO_16,
    vertical_offset_m: &VLP16_VERTICAL,
    distance_unit_m: 0.002,
};
static HIRES_TABLE: LaserTable = LaserTable {
    elevation_deg: &HIRES_ELEVATION,
    azimuth_offset_deg: &ZERO_16,
    vertical_offset_m: &HIRES_VERTICAL,
    distance_unit_m: 0.002,
};
static VLP32C_TABLE: LaserTable = LaserTable {
    elevation_deg: &VLP32C_ELEVATION,
    azimuth_offset_deg: &VLP32C_AZIMUTH,
    vertical_offset_m: &ZERO_32,
    distance_unit_m: 0.004,
};
static HDL32E_TABLE: LaserTable = LaserTable {
    elevation_deg: &HDL32E_ELEVATION,
    azimuth_offset_deg: &ZERO_32,
    vertical_offset_m: &ZERO_32,
    distance_unit_m: 0.002,
};

/// HDL-32E: one laser fired every 1.152 µs; 32 firings and 8 idle slots make a 46.08 µs cycle.
const HDL32E_FIRING_US: f64 = 1.152;
const HDL32E_CYCLE_US: f64 = 46.08;
/// VLP-16 and VLP-32C: one firing (one laser, or a pair on the VLP-32C) every 2.304 µs; 16
/// firings and an 18.43 µs recharge make a 55.296 µs sequence.
const PUCK_FIRING_US: f64 = 2.304;
const PUCK_SEQUENCE_US: f64 = 55.296;

impl Model {
    /// The model a data packet's factory byte (byte 1205) names, if it is one of ours.
    pub fn from_factory_byte(byte: u8) -> Option<Model> {
        match byte {
            0x21 => Some(Model::Hdl32E),
            0x22 => Some(Model::Vlp16),
            0x23 => Some(Model::PuckLite),
            0x24 => Some(Model::PuckHiRes),
            0x28 => Some(Model::Vlp32C),
            _ => None,
        }
    }

    /// What a factory byte names, for messages, including models this decoder does not read.
    pub fn describe_factory_byte(byte: u8) -> String {
        match Model::from_factory_byte(byte) {
            Some(m) => format!("{} (0x{byte:02X})", m.name()),
            None => match byte {
                0x00 => "nothing (0x00, unset by older firmware)".to_string(),
                0x31 => "Velarray (0x31), which is not read".to_string(),
                0xA1 => "VLS-128 / Alpha Prime (0xA1), which is not read".to_string(),
                b => format!("an unknown model (0x{b:02X})"),
            },
        }
    }

    /// The model a user named (`VLP-16`, `vlp16`, `Puck Hi-Res`, `VLP-32C`, `HDL-32E`...):
    /// case, spaces, dashes and underscores do not matter.
    pub fn parse(name: &str) -> Option<Model> {
        let key: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "vlp16" | "puck" => Some(Model::Vlp16),
            "pucklite" | "vlp16lite" => Some(Model::PuckLite),
            "puckhires" | "vlp16hires" | "hires" => Some(Model::PuckHiRes),
            "vlp32c" | "ultrapuck" | "32c" => Some(Model::Vlp32C),
            "hdl32e" | "hdl32" | "32e" => Some(Model::Hdl32E),
            _ => None,
        }
    }

    /// The model's name as Velodyne writes it (and as [`Model::parse`] reads it back).
    pub fn name(self) -> &'static str {
        match self {
            Model::Vlp16 => "VLP-16",
            Model::PuckLite => "Puck LITE",
            Model::PuckHiRes => "Puck Hi-Res",
            Model::Vlp32C => "VLP-32C",
            Model::Hdl32E => "HDL-32E",
        }
    }

    /// The factory byte this model's packets carry.
    pub fn factory_byte(self) -> u8 {
        match self {
            Model::Hdl32E => 0x21,
            Model::Vlp16 => 0x22,
            Model::PuckLite => 0x23,
            Model::PuckHiRes => 0x24,
            Model::Vlp32C => 0x28,
        }
    }

    /// Number of lasers.
    pub fn lasers(self) -> usize {
        self.table().elevation_deg.len()
    }

    /// The model's laser table.
    pub fn table(self) -> &'static LaserTable {
        match self {
            Model::Vlp16 | Model::PuckLite => &VLP16_TABLE,
            Model::PuckHiRes => &HIRES_TABLE,
            Model::Vlp32C => &VLP32C_TABLE,
            Model::Hdl32E => &HDL32E_TABLE,
        }
    }

    /// Firing columns (moments when every laser fires once) in one data block: two for the
    /// 16-laser models, whose blocks hold two firing sequences; one for the 32-laser ones.
    pub fn columns_per_block(self) -> usize {
        32 / self.lasers()
    }

    /// Duration of one firing column, µs.
    pub fn column_us(self) -> f64 {
        match self {
            Model::Hdl32E => HDL32E_CYCLE_US,
            _ => PUCK_SEQUENCE_US,
        }
    }

    /// Time of a channel's firing within its column, µs after the column's first firing.
    /// `channel` is the index within the block (0..32).
    pub fn firing_in_column_us(self, channel: usize) -> f64 {
        match self {
            Model::Hdl32E => HDL32E_FIRING_US * channel as f64,
            Model::Vlp32C => PUCK_FIRING_US * (channel / 2) as f64,
            Model::Vlp16 | Model::PuckLite | Model::PuckHiRes => {
                PUCK_FIRING_US * (channel % 16) as f64
            }
        }
    }

    /// Time between consecutive data packets, µs: twelve blocks of firing columns, half as
    /// many in dual return mode (each column then fills two blocks).
    pub fn packet_period_us(self, dual: bool) -> f64 {
        let columns = 12 * self.columns_per_block() / if dual { 2 } else { 1 };
        columns as f64 * self.column_us()
    }

    /// Each channel's ring: its rank by elevation, the lowest laser 0 (as the ROS driver
    /// numbers them). Indexed by laser (0..lasers).
    pub fn rings(self) -> Vec<u16> {
        let elevation = self.table().elevation_deg;
        let mut order: Vec<usize> = (0..elevation.len()).collect();
        order.sort_by(|&a, &b| elevation[a].total_cmp(&elevation[b]));
        let mut ring = vec![0u16; elevation.len()];
        for (rank, &laser) in order.iter().enumerate() {
            ring[laser] = rank as u16;
        }
        ring
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bytes_round_trip() {
        for m in MODELS {
            assert_eq!(Model::parse(m.name()), Some(m));
            assert_eq!(Model::from_factory_byte(m.factory_byte()), Some(m));
        }
        assert_eq!(Model::parse("vlp_16"), Some(Model::Vlp16));
        assert_eq!(Model::parse("HDL32E"), Some(Model::Hdl32E));
        assert_eq!(Model::parse("OS1-64"), None);
        assert!(Model::describe_factory_byte(0xA1).contains("VLS-128"));
    }

    #[test]
    fn tables_are_whole_and_rings_are_a_permutation() {
        for m in MODELS {
            let t = m.table();
            assert_eq!(t.azimuth_offset_deg.len(), m.lasers());
            assert_eq!(t.vertical_offset_m.len(), m.lasers());
            let mut rings = m.rings();
            // The lowest laser is ring 0, the highest the last ring.
            let lowest = (0..m.lasers())
                .min_by(|&a, &b| t.elevation_deg[a].total_cmp(&t.elevation_deg[b]))
                .unwrap();
            assert_eq!(rings[lowest], 0);
            rings.sort_unstable();
            assert_eq!(rings, (0..m.lasers() as u16).collect::<Vec<_>>());
        }
        // VLP-16 laser 0 (-15°) is ring 0, laser 15 (+15°) ring 15, laser 1 (+1°) ring 8.
        let r = Model::Vlp16.rings();
        assert_eq!((r[0], r[15], r[1]), (0, 15, 8));
    }

    #[test]
    fn packet_periods_follow_the_manuals() {
        // HDL-32E: 12 × 46.08 µs; VLP-16: 12 × 2 × 55.296 µs; VLP-32C: 12 × 55.296 µs.
        assert!((Model::Hdl32E.packet_period_us(false) - 552.96).abs() < 1e-9);
        assert!((Model::Vlp16.packet_period_us(false) - 1327.104).abs() < 1e-9);
        assert!((Model::Vlp32C.packet_period_us(false) - 663.552).abs() < 1e-9);
        assert!((Model::Vlp16.packet_period_us(true) - 663.552).abs() < 1e-9);
        // The VLP-32C fires its lasers in pairs; the last pair 15 × 2.304 µs after the first.
        assert_eq!(Model::Vlp32C.firing_in_column_us(1), 0.0);
        assert!((Model::Vlp32C.firing_in_column_us(31) - 34.56).abs() < 1e-9);
        // VLP-16 channel 17 is laser 1 of the second sequence.
        assert!((Model::Vlp16.firing_in_column_us(17) - 2.304).abs() < 1e-9);
    }
}
