//! Adaptive correspondence threshold (KISS-ICP's rule, also MOLA's): the spread of the
//! registration results around the motion prediction sets how far a correspondence may
//! be, so a smooth car gets a tight threshold and a shaken hand-held rig a wide one.

use nalgebra::Isometry3;

/// Running estimate of the prediction error.
#[derive(Debug, Clone)]
pub struct AdaptiveThreshold {
    initial_sigma: f64,
    min_motion: f64,
    max_range: f64,
    sse: f64,
    samples: usize,
}

impl AdaptiveThreshold {
    /// A threshold that starts at `initial_sigma`, ignores deviations below `min_motion`
    /// and measures rotation errors at `max_range`.
    pub fn new(initial_sigma: f64, min_motion: f64, max_range: f64) -> Self {
        AdaptiveThreshold {
            initial_sigma,
            min_motion,
            max_range,
            sse: 0.0,
            samples: 0,
        }
    }

    /// Displacement (metres) that a deviation `d` causes at the sensor's range.
    pub fn model_error(&self, d: &Isometry3<f64>) -> f64 {
        d.translation.vector.norm() + 2.0 * self.max_range * (d.rotation.angle() / 2.0).sin()
    }

    /// Records the deviation of a result from its prediction.
    pub fn update(&mut self, deviation: &Isometry3<f64>) {
        let e = self.model_error(deviation);
        if e > self.min_motion {
            self.sse += e * e;
            self.samples += 1;
        }
    }

    /// Current sigma, metres: the RMS of the recorded errors, or the initial one.
    pub fn sigma(&self) -> f64 {
        if self.samples == 0 {
            self.initial_sigma
        } else {
            (self.sse / self.samples as f64).sqrt()
        }
    }

    /// The initial sigma.
    pub fn initial_sigma(&self) -> f64 {
        self.initial_sigma
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Translation3;

    #[test]
    fn shrinks_with_small_deviations_and_ignores_tiny_ones() {
        let mut t = AdaptiveThreshold::new(2.0, 0.1, 50.0);
        assert_eq!(t.sigma(), 2.0);
        t.update(&Isometry3::from_parts(
            Translation3::new(0.05, 0.0, 0.0),
            Default::default(),
        ));
        assert_eq!(t.sigma(), 2.0, "below min_motion");
        t.update(&Isometry3::from_parts(
            Translation3::new(0.3, 0.0, 0.0),
            Default::default(),
        ));
        t.update(&Isometry3::from_parts(
            Translation3::new(0.4, 0.0, 0.0),
            Default::default(),
        ));
        assert!((t.sigma() - (0.125f64).sqrt()).abs() < 1e-12);
    }
}
