//! Parallel coordinates: one vertical axis per parameter and one for the objective, one line
//! per complete trial, coloured by its value.

use std::borrow::Borrow;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, FrozenTrial};

use crate::error::{Error, Result};
use crate::figure::{
    complete_values, direction_of, list, objective_label, param_axis, param_coordinate,
    param_names, Axis,
};
use crate::svg::{c, escape, short, HEIGHT, WIDTH};

/// One trial across the axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParallelLine {
    /// The trial's number.
    pub number: u64,
    /// One coordinate per axis (a categorical's choice index), the objective's value last.
    pub coords: Vec<f64>,
}

/// Parallel coordinates of some parameters and one objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParallelFigure {
    /// Title.
    pub title: String,
    /// One axis per parameter, then the objective.
    pub axes: Vec<Axis>,
    /// The objective's direction (the best lines are drawn darkest, on top).
    pub direction: Direction,
    /// One line per complete trial that has every parameter, in number order.
    pub lines: Vec<ParallelLine>,
    /// How many such trials there are (lines before downsampling).
    pub complete_trials: usize,
}

/// Parallel coordinates of `params` (every parameter, sorted by name, when empty) and
/// objective `objective`.
pub fn parallel_coordinates<T: Borrow<FrozenTrial>>(
    trials: &[T],
    directions: &[Direction],
    params: &[&str],
    objective: usize,
) -> Result<ParallelFigure> {
    let direction = direction_of(directions, objective)?;
    let names = param_names(trials);
    let params: Vec<&str> =
        if params.is_empty() { names.iter().copied().collect() } else { params.to_vec() };
    let mut axes = Vec::with_capacity(params.len() + 1);
    for p in &params {
        match param_axis(trials, p) {
            Some(a) => axes.push(a),
            None => return Err(Error::UnknownParam { name: (*p).to_owned(), known: list(&names) }),
        }
    }
    axes.push(Axis::linear(objective_label(directions, objective)));
    let mut lines: Vec<ParallelLine> = complete_values(trials, objective)
        .into_iter()
        .filter_map(|(t, v)| {
            let mut coords: Vec<f64> =
                params.iter().map(|p| t.param(p).map(param_coordinate)).collect::<Option<_>>()?;
            coords.push(v);
            Some(ParallelLine { number: t.number, coords })
        })
        .collect();
    if lines.is_empty() {
        return Err(Error::NoCompleteTrials { figure: "parallel coordinates" });
    }
    lines.sort_by_key(|l| l.number);
    Ok(ParallelFigure {
        title: "Parallel coordinates".to_owned(),
        axes,
        direction,
        complete_trials: lines.len(),
        lines,
    })
}

impl ParallelFigure {
    /// The lines ordered from the worst value to the best (the order they are drawn in).
    fn worst_to_best(&self) -> Vec<&ParallelLine> {
        let mut order: Vec<&ParallelLine> = self.lines.iter().collect();
        let value =
            |l: &ParallelLine| self.direction.to_minimize(l.coords.last().copied().unwrap_or(0.0));
        order.sort_by(|a, b| value(b).total_cmp(&value(a)).then(a.number.cmp(&b.number)));
        order
    }

    /// Keeps at most `max_points` lines, evenly spaced in rank of value, always the best.
    pub fn downsample(&mut self, max_points: usize) {
        let n = self.lines.len();
        if n <= max_points || max_points < 2 {
            return;
        }
        let order = self.worst_to_best();
        let k = max_points - 1;
        let mut kept: Vec<ParallelLine> = (0..=k).map(|i| order[i * (n - 1) / k].clone()).collect();
        kept.sort_by_key(|l| l.number);
        self.lines = kept;
    }

    /// The figure as SVG.
    pub fn to_svg(&self) -> String {
        let (left, right, top, bottom) = (60.0, WIDTH - 60.0, 56.0, HEIGHT - 56.0);
        let n = self.axes.len();
        let ax_x =
            |i: usize| if n > 1 { left + (right - left) * i as f64 / (n - 1) as f64 } else { left };
        // Each axis spans its data (a categorical its choices), log where the parameter is.
        let ranges: Vec<(f64, f64, bool)> = self
            .axes
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if let Some(cats) = &a.categories {
                    return (0.0, cats.len().saturating_sub(1) as f64, false);
                }
                let log = a.log && self.lines.iter().all(|l| l.coords[i] > 0.0);
                let t = |v: f64| if log { v.log10() } else { v };
                let lo = self.lines.iter().map(|l| t(l.coords[i])).fold(f64::INFINITY, f64::min);
                let hi =
                    self.lines.iter().map(|l| t(l.coords[i])).fold(f64::NEG_INFINITY, f64::max);
                (lo, hi, log)
            })
            .collect();
        let ax_y = |i: usize, v: f64| {
            let (lo, hi, log) = ranges[i];
            let v = if log { v.log10() } else { v };
            let f = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            bottom - f * (bottom - top)
        };
        let label = |i: usize, v: f64| match &self.axes[i].categories {
            Some(cats) => cats.get(v.round() as usize).cloned().unwrap_or_default(),
            None => short(v),
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">"#
        );
        let _ = writeln!(s, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
            c(WIDTH / 2.0),
            escape(&self.title)
        );
        let order = self.worst_to_best();
        let m = order.len();
        s.push_str("<g class=\"lines\" fill=\"none\" stroke-width=\"1\">\n");
        for (rank, line) in order.iter().enumerate() {
            // Light blue for the worst, dark red for the best.
            let f = if m > 1 { rank as f64 / (m - 1) as f64 } else { 1.0 };
            let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
            let colour = format!(
                "#{:02x}{:02x}{:02x}",
                mix(166.0, 178.0),
                mix(206.0, 24.0),
                mix(227.0, 43.0)
            );
            let mut d = String::new();
            for (i, v) in line.coords.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{} {}",
                    if i == 0 { "M" } else { "L" },
                    c(ax_x(i)),
                    c(ax_y(i, *v))
                );
            }
            let _ = writeln!(s, r#"<path d="{d}" stroke="{colour}"/>"#);
        }
        s.push_str("</g>\n<g class=\"axes\" fill=\"#333333\">\n");
        for (i, axis) in self.axes.iter().enumerate() {
            let x = ax_x(i);
            let _ = writeln!(
                s,
                r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#333333"/>"##,
                c(top),
                c(bottom),
                x = c(x)
            );
            let title =
                if ranges[i].2 { format!("{} (log)", axis.label) } else { axis.label.clone() };
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                c(x),
                c(top - 10.0),
                escape(&title)
            );
            let (lo, hi, log) = ranges[i];
            let back = |v: f64| if log { 10f64.powf(v) } else { v };
            let ticks: Vec<f64> = match &axis.categories {
                Some(cats) => (0..cats.len()).map(|k| k as f64).collect(),
                None if hi > lo => vec![back(lo), back(hi)],
                None => vec![back(lo)],
            };
            for t in ticks.iter().filter(|t| t.is_finite()) {
                let _ = writeln!(
                    s,
                    r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                    c(x - 4.0),
                    c(ax_y(i, *t) + 4.0),
                    escape(&label(i, *t))
                );
            }
        }
        s.push_str("</g>\n</svg>\n");
        s
    }
}
