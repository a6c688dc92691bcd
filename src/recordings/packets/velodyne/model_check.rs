//! Which model a capture is: the user's word, the packets' factory byte, and the evidence of
//! the packets' timing, which catches a byte that lies.
//!
//! The evidence: a sensor sends one data packet per twelve blocks of firings, so its packets'
//! own microsecond timestamps advance by the model's firing cycle times twelve: 553 µs for
//! an HDL-32E (12 × 46.08 µs), 664 µs for a VLP-32C (12 × 55.296 µs), 1327 µs for a VLP-16 or
//! Puck (12 × 2 × 55.296 µs; its blocks hold two firing sequences); half as much in dual
//! return mode, where a firing fills two blocks. Those periods are fixed by the firing
//! hardware, whatever the rotation speed. Older VLP-16 firmware writes the HDL-32E's byte
//! (0x21) or none; the timing tells them apart. (The three 16-laser models share one timing:
//! between them only the user can choose.)

use super::tables::Model;

/// Relative difference from a model's packet period still taken as that model's.
pub const PERIOD_TOLERANCE: f64 = 0.03;

/// The model families the timing tells apart, one representative each.
const FAMILIES: [Model; 3] = [Model::Hdl32E, Model::Vlp32C, Model::Vlp16];

/// What the packets' timing says.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingEvidence {
    /// Median time between consecutive data packets, µs.
    pub period_us: f64,
    /// Packet pairs the median is of.
    pub pairs: usize,
    /// Where the times came from (`packet timestamps`, or `capture times` when the packets'
    /// own are unusable).
    pub clock: &'static str,
}

impl TimingEvidence {
    /// The median spacing of consecutive packets' own timestamps (`timestamp_us`), over
    /// pairs 0 to 5 ms apart (a lost packet, a reordered one or the hour's roll-over
    /// does not count); the capture times' spacing when fewer than 8 such pairs exist.
    pub fn measure(packets: &[(f64, u32)]) -> Option<TimingEvidence> {
        let device: Vec<f64> = packets
            .windows(2)
            .map(|w| w[1].1 as f64 - w[0].1 as f64)
            .filter(|d| *d > 0.0 && *d < 5000.0)
            .collect();
        if device.len() >= 8 {
            return Some(TimingEvidence {
                period_us: median(device.clone()),
                pairs: device.len(),
                clock: "packet timestamps",
            });
        }
        let capture: Vec<f64> = packets
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * 1e6)
            .filter(|d| *d > 0.0 && *d < 5000.0)
            .collect();
        (capture.len() >= 8).then(|| TimingEvidence {
            period_us: median(capture.clone()),
            pairs: capture.len(),
            clock: "capture times",
        })
    }

    /// The model families whose packet period this matches.
    pub fn matching(&self, dual: bool) -> Vec<Model> {
        FAMILIES
            .into_iter()
            .filter(|m| self.fits(*m, dual))
            .collect()
    }

    /// True when the period is the model's.
    pub fn fits(&self, model: Model, dual: bool) -> bool {
        let expected = model.packet_period_us(dual);
        // Capture times carry the network's jitter: a wider tolerance.
        let tolerance = if self.clock == "capture times" {
            2.0 * PERIOD_TOLERANCE
        } else {
            PERIOD_TOLERANCE
        };
        ((self.period_us - expected) / expected).abs() <= tolerance
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Where the model decoded came from.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// The packets' factory byte.
    FactoryByte(u8),
    /// The user's option.
    Option,
    /// The factory byte was wrong or unset; the timing named the model.
    Corrected {
        /// The byte found.
        byte: u8,
    },
}

/// The model to decode with, where it came from, and a warning when the evidence disagrees.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChoice {
    /// The model.
    pub model: Model,
    /// Where it came from.
    pub source: ModelSource,
    /// A line for the user when the timing contradicts the byte or the option.
    pub warning: Option<String>,
}

impl ModelChoice {
    /// One line for `lidarflow info`: the model and where it came from.
    pub fn describe(&self) -> String {
        match &self.source {
            ModelSource::FactoryByte(b) => format!("{} (factory byte 0x{b:02X})", self.model),
            ModelSource::Option => format!("{} (as set by the user)", self.model),
            ModelSource::Corrected { byte } => format!(
                "{} (corrected from the packets' timing; their factory byte says {})",
                self.model,
                Model::describe_factory_byte(*byte)
            ),
        }
    }
}

/// How to set the model, for messages.
fn how_to_set(model: &str) -> String {
    format!("--set MODEL={model} (lidarflow run) or --model {model} (lidarflow info, convert)")
}

/// Decides the model from the user's `option`, the packets' factory `byte` and the timing
/// `evidence`. Errs (with what to do) when neither the option nor the byte names a model
/// and the timing cannot tell.
pub fn choose(
    option: Option<Model>,
    byte: u8,
    dual: bool,
    evidence: Option<&TimingEvidence>,
) -> Result<ModelChoice, String> {
    let byte_model = Model::from_factory_byte(byte);
    let said = |e: &TimingEvidence| {
        format!(
            "consecutive data packets are {:.0} µs apart (median of {} by their {})",
            e.period_us, e.pairs, e.clock
        )
    };
    if let Some(model) = option {
        let warning = evidence.filter(|e| !e.fits(model, dual)).map(|e| {
            let like = e.matching(dual);
            format!(
                "the model is set to {model}, but {}, where {model} packets are {:.0} µs apart{}; \
                 decoded as {model} as told",
                said(e),
                model.packet_period_us(dual),
                match like.first() {
                    Some(m) => format!(" (as {} packets are)", family_name(*m)),
                    None => String::new(),
                }
            )
        });
        return Ok(ModelChoice {
            model,
            source: ModelSource::Option,
            warning,
        });
    }
    let Some(e) = evidence else {
        return match byte_model {
            Some(model) => Ok(ModelChoice {
                model,
                source: ModelSource::FactoryByte(byte),
                warning: None,
            }),
            None => Err(format!(
                "the packets' factory byte names {} and there are too few packets to tell the \
                 model from their timing; set it: {}",
                Model::describe_factory_byte(byte),
                how_to_set("VLP-16")
            )),
        };
    };
    if let Some(model) = byte_model.filter(|m| e.fits(*m, dual)) {
        return Ok(ModelChoice {
            model,
            source: ModelSource::FactoryByte(byte),
            warning: None,
        });
    }
    let like = e.matching(dual);
    match (byte_model, like.as_slice()) {
        (_, [model]) => {
            let model = *model;
            let claim = match byte_model {
                Some(b) => format!(
                    "the packets' factory byte says {b} (0x{byte:02X}), but {}, as {} packets are \
                     ({:.0} µs), not {:.0} µs as {b} packets are",
                    said(e),
                    family_name(model),
                    model.packet_period_us(dual),
                    b.packet_period_us(dual),
                ),
                None => format!(
                    "the packets' factory byte names {}, and {}, as {} packets are ({:.0} µs)",
                    Model::describe_factory_byte(byte),
                    said(e),
                    family_name(model),
                    model.packet_period_us(dual)
                ),
            };
            let also = if model == Model::Vlp16 {
                format!(
                    "; a Puck Hi-Res or Puck LITE has the same timing: if it is one, {}",
                    how_to_set("Puck-Hi-Res")
                )
            } else {
                String::new()
            };
            Ok(ModelChoice {
                model,
                source: ModelSource::Corrected { byte },
                warning: Some(format!(
                    "{claim}: decoded as {model} (firmware that leaves the byte wrong or \
                     unset does this). To say so and silence this, {}{also}",
                    how_to_set(model.name())
                )),
            })
        }
        (Some(model), _) => Ok(ModelChoice {
            model,
            source: ModelSource::FactoryByte(byte),
            warning: Some(format!(
                "{}, which fits no model's firing cycle ({model}: {:.0} µs): decoded as the \
                 factory byte says, {model}; if that is wrong, {}",
                said(e),
                model.packet_period_us(dual),
                how_to_set("VLP-16")
            )),
        }),
        (None, _) => Err(format!(
            "the packets' factory byte names {} and their timing ({}) names no model; set it: \
             {}",
            Model::describe_factory_byte(byte),
            said(e),
            how_to_set("VLP-16")
        )),
    }
}

fn family_name(model: Model) -> &'static str {
    match model {
        Model::Vlp16 | Model::PuckLite | Model::PuckHiRes => "VLP-16",
        m => m.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(period_us: f64) -> TimingEvidence {
        TimingEvidence {
            period_us,
            pairs: 83,
            clock: "packet timestamps",
        }
    }

    #[test]
    fn timing_measured_from_packet_stamps_skips_losses() {
        let mut p: Vec<(f64, u32)> = (0..20)
            .map(|i| (i as f64 * 0.0013, 1000 + i * 1327))
            .collect();
        p[10].1 += 1327 * 3; // a loss: one long pair, then the rest shifted
        for q in p.iter_mut().skip(11) {
            q.1 += 1327 * 3;
        }
        let e = TimingEvidence::measure(&p).unwrap();
        assert_eq!(e.period_us, 1327.0);
        assert_eq!(e.clock, "packet timestamps");
        // Packet stamps that never move: the capture times speak.
        let frozen: Vec<(f64, u32)> = (0..20).map(|i| (i as f64 * 0.000553, 7)).collect();
        let e = TimingEvidence::measure(&frozen).unwrap();
        assert_eq!(e.clock, "capture times");
        assert!((e.period_us - 553.0).abs() < 1.0);
    }

    #[test]
    fn a_byte_the_timing_confirms_is_kept() {
        let c = choose(None, 0x21, false, Some(&evidence(553.0))).unwrap();
        assert_eq!(c.model, Model::Hdl32E);
        assert_eq!(c.source, ModelSource::FactoryByte(0x21));
        assert!(c.warning.is_none());
        // A Puck Hi-Res byte with VLP-16 timing: the byte is kept (same timing).
        let c = choose(None, 0x24, false, Some(&evidence(1327.0))).unwrap();
        assert_eq!(c.model, Model::PuckHiRes);
        assert!(c.warning.is_none());
    }

    #[test]
    fn a_byte_the_timing_contradicts_is_corrected_with_a_warning() {
        let c = choose(None, 0x21, false, Some(&evidence(1327.0))).unwrap();
        assert_eq!(c.model, Model::Vlp16);
        assert_eq!(c.source, ModelSource::Corrected { byte: 0x21 });
        let w = c.warning.unwrap();
        assert!(
            w.contains("--set MODEL=VLP-16") && w.contains("HDL-32E"),
            "{w}"
        );
        // Dual return VLP-16 packets are 664 µs apart, as single return VLP-32C ones: the
        // mode decides.
        assert_eq!(
            choose(None, 0x21, true, Some(&evidence(663.5)))
                .unwrap()
                .model,
            Model::Vlp16
        );
        assert_eq!(
            choose(None, 0x00, false, Some(&evidence(663.5)))
                .unwrap()
                .model,
            Model::Vlp32C
        );
    }

    #[test]
    fn the_option_wins_but_is_questioned_when_the_timing_disagrees() {
        let c = choose(Some(Model::Vlp16), 0x21, false, Some(&evidence(1327.0))).unwrap();
        assert_eq!(
            (c.model, c.source, c.warning),
            (Model::Vlp16, ModelSource::Option, None)
        );
        let c = choose(Some(Model::Hdl32E), 0x21, false, Some(&evidence(1327.0))).unwrap();
        assert_eq!(c.model, Model::Hdl32E);
        assert!(c.warning.unwrap().contains("as told"));
    }

    #[test]
    fn no_byte_and_no_timing_is_an_error_saying_what_to_set() {
        let e = choose(None, 0x00, false, None).unwrap_err();
        assert!(e.contains("--set MODEL="), "{e}");
        let e = choose(None, 0x00, false, Some(&evidence(900.0))).unwrap_err();
        assert!(e.contains("900"), "{e}");
    }
}
