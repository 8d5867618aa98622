//! The unit box CMA-ES works in: one coordinate per numeric parameter.
//!
//! A coordinate `u ∈ [0, 1]` maps linearly onto the parameter's range, on the logarithm for log
//! scales. Ints and stepped floats are *cells*: the range is widened by half a step at each end,
//! so that every value owns a cell of the box (`[v − step/2, v + step/2]`, on the logarithm for
//! log ints), and a coordinate takes the value of the cell it falls in.

use std::sync::Arc;

use crate::distribution::Distribution;

/// One numeric parameter as a coordinate of the unit box.
#[derive(Debug, Clone)]
pub(crate) struct Dim {
    pub(crate) name: Arc<str>,
    pub(crate) distribution: Arc<Distribution>,
    log: bool,
    /// The box's ends on the (log) scale.
    lo: f64,
    hi: f64,
    /// Half a step, for ints and stepped floats.
    half_step: Option<f64>,
    /// Lowest and highest values.
    low: f64,
    high: f64,
}

/// The cell of a discrete value in the unit box, and whether it has neighbours.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    /// A lower value exists.
    pub(crate) below: bool,
    /// A higher value exists.
    pub(crate) above: bool,
}

impl Dim {
    /// The coordinate of a numeric parameter with more than one value; `None` otherwise.
    pub(crate) fn new(name: Arc<str>, distribution: Arc<Distribution>) -> Option<Dim> {
        if distribution.is_single() {
            return None;
        }
        let t = |v: f64, log: bool| if log { v.ln() } else { v };
        let (log, lo, hi, half_step, low, high) = match &*distribution {
            Distribution::Float(d) => match d.step {
                Some(step) => {
                    let high = d.max_value();
                    (false, d.low - step / 2.0, high + step / 2.0, Some(step / 2.0), d.low, high)
                }
                None => (d.log, t(d.low, d.log), t(d.high, d.log), None, d.low, d.high),
            },
            Distribution::Int(d) => {
                let half = d.step as f64 / 2.0;
                let (low, high) = (d.low as f64, d.high as f64);
                (d.log, t(low - half, d.log), t(high + half, d.log), Some(half), low, high)
            }
            Distribution::Categorical(_) => return None,
        };
        if !(lo.is_finite() && hi.is_finite() && hi > lo) {
            return None;
        }
        Some(Dim { name, distribution, log, lo, hi, half_step, low, high })
    }

    /// The coordinate of an internal value (may fall outside `[0, 1]` for foreign values).
    pub(crate) fn unit_of(&self, internal: f64) -> f64 {
        let t = if self.log { internal.max(f64::MIN_POSITIVE).ln() } else { internal };
        (t - self.lo) / (self.hi - self.lo)
    }

    /// The internal value of a coordinate (clipped into the box), snapped into the
    /// distribution.
    pub(crate) fn value_at(&self, u: f64) -> f64 {
        let u = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
        let t = self.lo + u * (self.hi - self.lo);
        let v = if self.log { t.exp() } else { t };
        self.distribution.snap_internal(v)
    }

    /// The cell of the value a coordinate takes; `None` for a continuous parameter.
    pub(crate) fn cell(&self, u: f64) -> Option<Cell> {
        let half = self.half_step?;
        let v = self.value_at(u);
        Some(Cell {
            lo: self.unit_of(v - half),
            hi: self.unit_of(v + half),
            below: v > self.low,
            above: v < self.high,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(d: Distribution) -> Dim {
        Dim::new(Arc::from("p"), Arc::new(d)).expect("a numeric range")
    }

    #[test]
    fn every_value_round_trips_and_cells_tile_the_box() {
        for d in [
            Distribution::int(-3, 3),
            Distribution::int_step(0, 20, 5),
            Distribution::int_log(1, 16),
            Distribution::float_step(0.0, 0.3, 0.1),
        ] {
            let x = dim(d.clone());
            let n = d.cardinality().expect("discrete") as usize;
            let mut edge = 0.0;
            let mut u = 1e-9;
            for k in 0..n {
                let v = x.value_at(u);
                assert!(d.contains_internal(v), "{d}: {v}");
                assert_eq!(x.value_at(x.unit_of(v)), v, "{d}");
                let c = x.cell(u).expect("discrete");
                assert!((c.lo - edge).abs() < 1e-9, "{d}: cell {k} starts at {} not {edge}", c.lo);
                assert_eq!((c.below, c.above), (k > 0, k + 1 < n), "{d}");
                edge = c.hi;
                u = c.hi + 1e-9;
            }
            assert!((edge - 1.0).abs() < 1e-9, "{d}: cells end at {edge}");
        }
        let f = dim(Distribution::float_log(1e-4, 10.0));
        assert!(f.cell(0.3).is_none());
        assert!((f.value_at(0.0) - 1e-4).abs() < 1e-18 && f.value_at(1.0) <= 10.0);
        assert!((f.unit_of(1e-2) - 0.4).abs() < 1e-12);
        assert!(Dim::new(Arc::from("c"), Arc::new(Distribution::categorical(["a", "b"]))).is_none());
        assert!(Dim::new(Arc::from("s"), Arc::new(Distribution::int(4, 4))).is_none());
    }
}
