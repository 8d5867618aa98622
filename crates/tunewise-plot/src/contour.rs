//! Contour (filled): the objective over two parameters, interpolated on a grid, with the trials
//! on top.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, FrozenTrial};

use crate::error::{Error, Result};
use crate::figure::{
    complete_values, direction_of, list, objective_label, param_axis, param_coordinate,
    param_names, Axis, TrialPoint,
};
use crate::svg::{render, short, Chart, Marker, Series};

/// Grid points per numeric axis.
const GRID: usize = 24;

/// The objective over two parameters: an interpolated grid and the trials' points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContourFigure {
    /// Title.
    pub title: String,
    /// The first parameter.
    pub x: Axis,
    /// The second parameter.
    pub y: Axis,
    /// The objective's label.
    pub z_label: String,
    /// The objective's direction (the best values are drawn darkest).
    pub direction: Direction,
    /// Grid positions along x (choice indices for a categorical).
    pub grid_x: Vec<f64>,
    /// Grid positions along y.
    pub grid_y: Vec<f64>,
    /// Interpolated objective: `z[j][i]` at `(grid_x[i], grid_y[j])`.
    pub z: Vec<Vec<f64>>,
    /// The complete trials with both parameters (`x`, `y` = their values), in number order.
    pub points: Vec<TrialPoint>,
}

/// The filled contour of objective `objective` over parameters `x` and `y`.
///
/// The surface is interpolated by inverse squared distance over the trials, in coordinates
/// scaled to [0, 1] per axis (log10 first for a log-scale parameter): smooth, exact at the
/// trials, and with no model to fit. Cost: grid cells × trials (24 × 24 × 50,000 ≈ 3·10⁷).
pub fn contour<T: Borrow<FrozenTrial>>(
    trials: &[T],
    directions: &[Direction],
    x: &str,
    y: &str,
    objective: usize,
) -> Result<ContourFigure> {
    let direction = direction_of(directions, objective)?;
    let names = param_names(trials);
    let axis = |name: &str| {
        param_axis(trials, name)
            .ok_or_else(|| Error::UnknownParam { name: name.to_owned(), known: list(&names) })
    };
    let (ax, ay) = (axis(x)?, axis(y)?);
    let mut data: Vec<(TrialPoint, f64)> = complete_values(trials, objective)
        .into_iter()
        .filter_map(|(t, v)| {
            let (px, py) = (t.param(x)?, t.param(y)?);
            let p =
                TrialPoint { number: t.number, x: param_coordinate(px), y: param_coordinate(py) };
            Some((p, v))
        })
        .collect();
    if data.is_empty() {
        return Err(Error::NoCompleteTrials { figure: "contour" });
    }
    data.sort_by_key(|d| d.0.number);
    let sx = Scaler::new(&ax, data.iter().map(|d| d.0.x));
    let sy = Scaler::new(&ay, data.iter().map(|d| d.0.y));
    let grid_x = sx.grid();
    let grid_y = sy.grid();
    let scaled: Vec<(f64, f64, f64)> =
        data.iter().map(|(p, v)| (sx.unit(p.x), sy.unit(p.y), *v)).collect();
    let z = grid_y
        .iter()
        .map(|gy| grid_x.iter().map(|gx| idw(&scaled, sx.unit(*gx), sy.unit(*gy))).collect())
        .collect();
    Ok(ContourFigure {
        title: format!("Contour: {x} and {y}"),
        x: ax,
        y: ay,
        z_label: objective_label(directions, objective),
        direction,
        grid_x,
        grid_y,
        z,
        points: data.into_iter().map(|d| d.0).collect(),
    })
}

/// Inverse squared distance weighting at `(u, v)`; a trial at the point itself gives its value.
fn idw(points: &[(f64, f64, f64)], u: f64, v: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for &(a, b, z) in points {
        let d2 = (a - u).powi(2) + (b - v).powi(2);
        if d2 < 1e-18 {
            return z;
        }
        num += z / d2;
        den += 1.0 / d2;
    }
    num / den
}

/// Maps one axis' values to [0, 1] (log10 first when the axis is log), and back for the grid.
struct Scaler {
    lo: f64,
    hi: f64,
    log: bool,
    categories: Option<usize>,
}

impl Scaler {
    fn new(axis: &Axis, values: impl Iterator<Item = f64>) -> Scaler {
        let log = axis.log && axis.categories.is_none();
        let t = |v: f64| if log { v.max(f64::MIN_POSITIVE).log10() } else { v };
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            lo = lo.min(t(v));
            hi = hi.max(t(v));
        }
        let categories = axis.categories.as_ref().map(Vec::len);
        if let Some(n) = categories {
            (lo, hi) = (0.0, n.saturating_sub(1) as f64);
        }
        Scaler { lo, hi, log, categories }
    }

    fn unit(&self, v: f64) -> f64 {
        let v = if self.log { v.max(f64::MIN_POSITIVE).log10() } else { v };
        if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        }
    }

    /// Grid positions in the axis' own values: each choice of a categorical, else `GRID` evenly
    /// spaced (in log for a log axis).
    fn grid(&self) -> Vec<f64> {
        if let Some(n) = self.categories {
            return (0..n).map(|k| k as f64).collect();
        }
        let back = |t: f64| if self.log { 10f64.powf(t) } else { t };
        (0..GRID)
            .map(|k| back(self.lo + (self.hi - self.lo) * k as f64 / (GRID - 1) as f64))
            .collect()
    }
}

/// Cell bounds around grid positions: midway between neighbours (in log for a log axis), the
/// ends as far out as the next midpoint would be.
fn bounds(grid: &[f64], log: bool) -> Vec<(f64, f64)> {
    let t = |v: f64| if log { v.log10() } else { v };
    let back = |v: f64| if log { 10f64.powf(v) } else { v };
    let g: Vec<f64> = grid.iter().map(|v| t(*v)).collect();
    (0..g.len())
        .map(|i| {
            let before = if i > 0 { (g[i - 1] + g[i]) / 2.0 } else { g[i] - half(&g, 0) };
            let after = if i + 1 < g.len() { (g[i] + g[i + 1]) / 2.0 } else { g[i] + half(&g, i) };
            (back(before), back(after))
        })
        .collect()
}

/// Half the gap next to grid point `i` (0.5 when there is one point).
fn half(g: &[f64], i: usize) -> f64 {
    let gap = if i + 1 < g.len() {
        g[i + 1] - g[i]
    } else if i > 0 {
        g[i] - g[i - 1]
    } else {
        1.0
    };
    if gap > 0.0 {
        gap / 2.0
    } else {
        0.5
    }
}

/// Colour of a value at fraction `f` from the worst (0) to the best (1): light yellow to dark
/// blue (a sequential scale readable in grey too).
fn colour(f: f64) -> String {
    let f = if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 };
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(255.0, 8.0), mix(247.0, 48.0), mix(188.0, 107.0))
}

impl ContourFigure {
    /// The figure as SVG: the interpolated grid as coloured cells (darker is better), the trials
    /// as black points, and the range of values in the legend.
    pub fn to_svg(&self) -> String {
        let all = self.z.iter().flatten().copied().filter(|v| v.is_finite());
        let (lo, hi) =
            all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let goodness = |v: f64| {
            let f = if hi > lo { (v - lo) / (hi - lo) } else { 1.0 };
            match self.direction {
                Direction::Minimize => 1.0 - f,
                Direction::Maximize => f,
            }
        };
        let bx = bounds(&self.grid_x, self.x.log && self.x.categories.is_none());
        let by = bounds(&self.grid_y, self.y.log && self.y.categories.is_none());
        let mut cells = Vec::new();
        for (j, row) in self.z.iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                let ((x0, x1), (y0, y1)) = (bx[i], by[j]);
                cells.push((x0, x1, y0, y1, colour(goodness(*v))));
            }
        }
        let (best, worst) = match self.direction {
            Direction::Minimize => (lo, hi),
            Direction::Maximize => (hi, lo),
        };
        render(&Chart {
            title: self.title.clone(),
            x: self.x.spec(),
            y: self.y.spec(),
            series: vec![
                Series::Cells { cells },
                Series::Points {
                    xy: self.points.iter().map(|p| (p.x, p.y)).collect(),
                    colour: "#000000",
                    marker: Marker::Circle,
                    label: Some("trial".to_owned()),
                },
                Series::Bars {
                    bars: Vec::new(),
                    colour: "#08306B",
                    label: Some(format!("best {}", short(best))),
                },
                Series::Bars {
                    bars: Vec::new(),
                    colour: "#FFF7BC",
                    label: Some(format!("worst {}", short(worst))),
                },
            ],
        })
    }
}
