//! A small SVG writer: one chart (title, two axes with 1-2-5 ticks, linear, log or categorical,
//! points, lines, step lines, bars and a legend).
//!
//! Written here rather than taken from `plotters`: the figures need only axes, ticks, points,
//! lines and bars, and owning the writer keeps the output byte-for-byte stable (fixed number
//! formatting, no font metrics, no dependency upgrade that reorders attributes), which is what
//! the snapshot tests and the HTML report rely on. It also builds in seconds.

use std::fmt::Write as _;

/// Width of every figure, in SVG units.
pub(crate) const WIDTH: f64 = 640.0;
/// Height of every figure.
pub(crate) const HEIGHT: f64 = 400.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;
/// Room on the right for the legend, when there is one.
const LEGEND_WIDTH: f64 = 120.0;
/// The widest left margin: room for category labels of about 28 characters; longer ones are cut.
const MAX_LEFT: f64 = 200.0;
/// An upper estimate of a character's width at font size 11 (no font metrics: the layout must
/// not depend on the fonts installed).
const CHAR_WIDTH: f64 = 6.5;

/// The colours of series, in order (colour-blind safe: Okabe and Ito).
pub(crate) const PALETTE: [&str; 8] =
    ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];
/// Grey for secondary points (dominated trials, other trials).
pub(crate) const GREY: &str = "#999999";

/// How values map onto an axis.
#[derive(Debug, Clone)]
pub(crate) enum Scale {
    /// Linear between the bounds.
    Linear,
    /// Logarithmic (base 10); bounds must be positive.
    Log,
    /// Categories at 0, 1, 2, … with these labels.
    Categories(Vec<String>),
}

/// One axis of a chart.
#[derive(Debug, Clone)]
pub(crate) struct AxisSpec {
    pub label: String,
    pub scale: Scale,
}

/// A point marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Cross,
}

/// What a chart draws, in data coordinates.
#[derive(Debug, Clone)]
pub(crate) enum Series {
    Points {
        xy: Vec<(f64, f64)>,
        colour: &'static str,
        marker: Marker,
        label: Option<String>,
    },
    Line {
        xy: Vec<(f64, f64)>,
        colour: &'static str,
        step: bool,
        label: Option<String>,
    },
    /// Horizontal bars from x0 to x1 at row y (one category per row).
    Bars {
        bars: Vec<(f64, f64, f64)>,
        colour: &'static str,
        label: Option<String>,
    },
    /// Filled rectangles `(x0, x1, y0, y1, colour)` (a heatmap's cells), drawn under the rest.
    Cells {
        cells: Vec<(f64, f64, f64, f64, String)>,
    },
    /// Text `(end, row, text)` at the end of a horizontal bar: just right of it, or inside it
    /// (white) when there is no room on the right.
    BarLabels {
        labels: Vec<(f64, f64, String)>,
    },
}

impl Series {
    fn xs(&self) -> Vec<f64> {
        match self {
            Series::Points { xy, .. } | Series::Line { xy, .. } => xy.iter().map(|p| p.0).collect(),
            Series::Bars { bars, .. } => bars.iter().flat_map(|b| [b.0, b.1]).collect(),
            Series::Cells { cells } => cells.iter().flat_map(|c| [c.0, c.1]).collect(),
            Series::BarLabels { labels } => labels.iter().map(|l| l.0).collect(),
        }
    }

    fn ys(&self) -> Vec<f64> {
        match self {
            Series::Points { xy, .. } | Series::Line { xy, .. } => xy.iter().map(|p| p.1).collect(),
            Series::Bars { bars, .. } => bars.iter().map(|b| b.2).collect(),
            Series::Cells { cells } => cells.iter().flat_map(|c| [c.2, c.3]).collect(),
            Series::BarLabels { labels } => labels.iter().map(|l| l.1).collect(),
        }
    }

    fn legend(&self) -> Option<(&str, &'static str, &'static str)> {
        match self {
            Series::Points { label: Some(l), colour, marker, .. } => {
                Some((l, colour, if *marker == Marker::Cross { "cross" } else { "point" }))
            }
            Series::Line { label: Some(l), colour, .. } => Some((l, colour, "line")),
            Series::Bars { label: Some(l), colour, .. } => Some((l, colour, "bar")),
            _ => None,
        }
    }
}

/// A chart ready to draw.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    pub title: String,
    pub x: AxisSpec,
    pub y: AxisSpec,
    pub series: Vec<Series>,
}

/// Escapes text for SVG and HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A coordinate, with two decimals (fixed, so output does not depend on float printing).
pub(crate) fn c(v: f64) -> String {
    format!("{v:.2}")
}

/// A tick label: `step` decides the decimals, very large or small values use an exponent.
pub(crate) fn tick_label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    let mag = v.abs();
    if !(1e-3..1e6).contains(&mag) {
        return sci(v);
    }
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    let s = format!("{v:.decimals$}");
    if s == "-0" {
        "0".to_owned()
    } else {
        s
    }
}

/// A number in scientific notation with up to three significant digits: `1e-05`, `2.5e+07`.
fn sci(v: f64) -> String {
    let s = format!("{v:.2e}");
    // `1.50e-5` → mantissa "1.50", exponent "-5": trim the mantissa's zeros.
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
    let (sign, digits) = match e.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', e),
    };
    format!("{m}e{sign}{digits:0>2}")
}

/// A value for tables and tooltips: up to 6 significant digits, fixed format.
pub(crate) fn short(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let mag = v.abs();
    if !(1e-4..1e7).contains(&mag) {
        return sci(v);
    }
    let decimals = (5 - mag.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// "Nice" ticks (1, 2 or 5 times a power of ten) covering `[lo, hi]`, about `target` of them,
/// and the tick step. The range is widened to whole steps.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        // One distinct value: a unit range around it.
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    };
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    let ticks = (0..=((last - first) as usize)).map(|k| (first + k as f64) * step).collect();
    (ticks, step)
}

/// Decade ticks for a log axis covering `[lo, hi]` (both > 0); between two decades when the
/// range is less than one decade, the 1-2-5 values inside it.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let first = lo.log10().floor() as i32;
    let last = (hi.log10().ceil() as i32).max(first + 1);
    let mut ticks: Vec<f64> = (first..=last).map(|e| 10f64.powi(e)).collect();
    if last - first <= 1 {
        ticks = (first..=last)
            .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
            .filter(|t| *t <= 10f64.powi(last))
            .collect();
    }
    ticks
}

/// Maps data values onto pixels along one axis.
struct Mapping {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<(f64, String)>,
}

impl Mapping {
    fn new(spec: &AxisSpec, values: &[f64]) -> Mapping {
        let finite: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && (!matches!(spec.scale, Scale::Log) || *v > 0.0))
            .collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if finite.is_empty() { (0.0, 1.0) } else { (lo, hi) };
        match &spec.scale {
            Scale::Linear => {
                let (ticks, step) = nice_ticks(lo, hi, 6);
                let (tlo, thi) = (ticks[0], ticks[ticks.len() - 1]);
                Mapping {
                    lo: tlo,
                    hi: thi,
                    log: false,
                    ticks: ticks.iter().map(|t| (*t, tick_label(*t, step))).collect(),
                }
            }
            Scale::Log => {
                let (lo, hi) = if finite.is_empty() { (1.0, 10.0) } else { (lo, hi) };
                let ticks = log_ticks(lo, hi);
                let (tlo, thi) = (ticks[0].min(lo), ticks[ticks.len() - 1].max(hi));
                Mapping {
                    lo: tlo.log10(),
                    hi: thi.log10(),
                    log: true,
                    ticks: ticks.iter().map(|t| (*t, sci_or_plain(*t))).collect(),
                }
            }
            Scale::Categories(names) => Mapping {
                lo: -0.5,
                hi: names.len().max(1) as f64 - 0.5,
                log: false,
                // At most about 20 labels: a timeline of 1,000 trials labels every 50th row.
                ticks: names
                    .iter()
                    .enumerate()
                    .step_by(names.len().div_ceil(20).max(1))
                    .map(|(i, n)| (i as f64, n.clone()))
                    .collect(),
            },
        }
    }

    /// The fraction of the axis at `v` (0 at the low end).
    fn frac(&self, v: f64) -> f64 {
        let v = if self.log { v.max(f64::MIN_POSITIVE).log10() } else { v };
        if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        }
    }
}

/// Log tick labels: plain between 0.001 and 100000, otherwise `1e-05`.
fn sci_or_plain(v: f64) -> String {
    if (1e-3..1e5).contains(&v) {
        short(v)
    } else {
        sci(v)
    }
}

/// Draws a chart as a standalone SVG document.
pub(crate) fn render(chart: &Chart) -> String {
    let legend: Vec<(&str, &str, &str)> = chart.series.iter().filter_map(Series::legend).collect();
    let right = if legend.is_empty() { RIGHT } else { RIGHT + LEGEND_WIDTH };
    // Category labels on the left (parameter names, worker ids) get the room they need.
    let left = match &chart.y.scale {
        Scale::Categories(names) => {
            let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
            (longest as f64 * CHAR_WIDTH + 12.0).clamp(LEFT, MAX_LEFT)
        }
        _ => LEFT,
    };
    let (x0, x1, y0, y1) = (left, WIDTH - right, HEIGHT - BOTTOM, TOP);
    let xs: Vec<f64> = chart.series.iter().flat_map(Series::xs).collect();
    let ys: Vec<f64> = chart.series.iter().flat_map(Series::ys).collect();
    let mx = Mapping::new(&chart.x, &xs);
    let my = Mapping::new(&chart.y, &ys);
    let px = |v: f64| x0 + mx.frac(v) * (x1 - x0);
    let py = |v: f64| y0 + my.frac(v) * (y1 - y0);
    let ok_x = |v: f64| v.is_finite() && (!mx.log || v > 0.0);
    let ok_y = |v: f64| v.is_finite() && (!my.log || v > 0.0);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#,
        w = WIDTH,
        h = HEIGHT
    );
    let _ = writeln!(s, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        c(WIDTH / 2.0),
        escape(&chart.title)
    );
    // Grid and ticks.
    s.push_str("<g class=\"axes\" stroke=\"#dddddd\">\n");
    for (t, _) in &mx.ticks {
        let x = px(*t);
        let _ = writeln!(
            s,
            r#"<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}"/>"#,
            x = c(x),
            y0 = c(y0),
            y1 = c(y1)
        );
    }
    for (t, _) in &my.ticks {
        let y = py(*t);
        let _ = writeln!(
            s,
            r#"<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}"/>"#,
            x0 = c(x0),
            x1 = c(x1),
            y = c(y)
        );
    }
    s.push_str("</g>\n");
    let _ = writeln!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333333"/>"##,
        c(x0),
        c(y1),
        c(x1 - x0),
        c(y0 - y1)
    );
    s.push_str("<g class=\"ticks\" fill=\"#333333\">\n");
    for (t, label) in &mx.ticks {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            c(px(*t)),
            c(y0 + 16.0),
            escape(label)
        );
    }
    let fits = ((MAX_LEFT - 12.0) / CHAR_WIDTH) as usize;
    for (t, label) in &my.ticks {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            c(x0 - 6.0),
            c(py(*t) + 4.0),
            escape(&cut(label, fits))
        );
    }
    s.push_str("</g>\n");
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        c((x0 + x1) / 2.0),
        c(HEIGHT - 16.0),
        escape(&axis_title(&chart.x))
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{y}" text-anchor="middle" transform="rotate(-90 16 {y})">{}</text>"#,
        escape(&axis_title(&chart.y)),
        y = c((y0 + y1) / 2.0)
    );

    for series in &chart.series {
        match series {
            Series::Points { xy, colour, marker, .. } => {
                let _ = writeln!(s, r#"<g class="points" fill="{colour}" stroke="{colour}">"#);
                for &(x, y) in xy.iter().filter(|(x, y)| ok_x(*x) && ok_y(*y)) {
                    let (x, y) = (px(x), py(y));
                    match marker {
                        Marker::Circle => {
                            let _ = writeln!(s, r#"<circle cx="{}" cy="{}" r="3"/>"#, c(x), c(y));
                        }
                        Marker::Cross => {
                            let _ = writeln!(
                                s,
                                r#"<path d="M{} {}L{} {}M{} {}L{} {}" stroke-width="1.5"/>"#,
                                c(x - 4.0),
                                c(y - 4.0),
                                c(x + 4.0),
                                c(y + 4.0),
                                c(x - 4.0),
                                c(y + 4.0),
                                c(x + 4.0),
                                c(y - 4.0)
                            );
                        }
                    }
                }
                s.push_str("</g>\n");
            }
            Series::Line { xy, colour, step, .. } => {
                let pts: Vec<(f64, f64)> =
                    xy.iter().copied().filter(|(x, y)| ok_x(*x) && ok_y(*y)).collect();
                if pts.is_empty() {
                    continue;
                }
                let mut d = String::new();
                for (i, &(x, y)) in pts.iter().enumerate() {
                    if i == 0 {
                        let _ = write!(d, "M{} {}", c(px(x)), c(py(y)));
                    } else if *step {
                        let _ = write!(d, "H{}V{}", c(px(x)), c(py(y)));
                    } else {
                        let _ = write!(d, "L{} {}", c(px(x)), c(py(y)));
                    }
                }
                let _ = writeln!(
                    s,
                    r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#
                );
            }
            Series::Cells { cells } => {
                s.push_str("<g class=\"cells\" shape-rendering=\"crispEdges\">\n");
                for (a, b, lo, hi, colour) in cells {
                    if !(ok_x(*a) && ok_x(*b) && ok_y(*lo) && ok_y(*hi)) {
                        continue;
                    }
                    let (xa, xb, ya, yb) = (px(*a), px(*b), py(*hi), py(*lo));
                    let _ = writeln!(
                        s,
                        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"/>"#,
                        c(xa.min(xb)),
                        c(ya.min(yb)),
                        c((xb - xa).abs()),
                        c((yb - ya).abs())
                    );
                }
                s.push_str("</g>\n");
            }
            Series::BarLabels { labels } => {
                s.push_str("<g class=\"bar-labels\" fill=\"#333333\">\n");
                for (end, row, text) in labels.iter().filter(|(e, r, _)| ok_x(*e) && r.is_finite())
                {
                    let (x, y) = (px(*end), c(py(*row) + 4.0));
                    let width = text.chars().count() as f64 * CHAR_WIDTH;
                    if x + 4.0 + width <= x1 {
                        let _ = writeln!(
                            s,
                            r#"<text x="{}" y="{y}">{}</text>"#,
                            c(x + 4.0),
                            escape(text)
                        );
                    } else {
                        let _ = writeln!(
                            s,
                            r#"<text x="{}" y="{y}" text-anchor="end" fill="white">{}</text>"#,
                            c(x - 4.0),
                            escape(text)
                        );
                    }
                }
                s.push_str("</g>\n");
            }
            Series::Bars { bars, colour, .. } => {
                let _ = writeln!(
                    s,
                    r#"<g class="bars" fill="{colour}" stroke="white" stroke-width="0.5">"#
                );
                let row = (y0 - y1) / (my.hi - my.lo).max(1.0) * 0.7;
                for &(a, b, y) in
                    bars.iter().filter(|(a, b, y)| ok_x(*a) && ok_x(*b) && y.is_finite())
                {
                    let (xa, xb) = (px(a), px(b));
                    let _ = writeln!(
                        s,
                        r#"<rect x="{}" y="{}" width="{}" height="{}"/>"#,
                        c(xa),
                        c(py(y) - row / 2.0),
                        c((xb - xa).max(1.0)),
                        c(row)
                    );
                }
                s.push_str("</g>\n");
            }
        }
    }

    if !legend.is_empty() {
        s.push_str("<g class=\"legend\">\n");
        let lx = x1 + 12.0;
        for (i, (label, colour, kind)) in legend.iter().enumerate() {
            let y = y1 + 10.0 + 18.0 * i as f64;
            match *kind {
                "line" => {
                    let _ = writeln!(
                        s,
                        r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="1.5"/>"#,
                        c(lx),
                        c(lx + 16.0),
                        y = c(y)
                    );
                }
                "cross" => {
                    let _ = writeln!(
                        s,
                        r#"<path d="M{} {}L{} {}M{} {}L{} {}" stroke="{colour}" stroke-width="1.5"/>"#,
                        c(lx + 4.0),
                        c(y - 4.0),
                        c(lx + 12.0),
                        c(y + 4.0),
                        c(lx + 4.0),
                        c(y + 4.0),
                        c(lx + 12.0),
                        c(y - 4.0)
                    );
                }
                "bar" => {
                    let _ = writeln!(
                        s,
                        r#"<rect x="{}" y="{}" width="16" height="8" fill="{colour}"/>"#,
                        c(lx),
                        c(y - 4.0)
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        r#"<circle cx="{}" cy="{}" r="3" fill="{colour}"/>"#,
                        c(lx + 8.0),
                        c(y)
                    );
                }
            }
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}">{}</text>"#,
                c(lx + 22.0),
                c(y + 4.0),
                escape(label)
            );
        }
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    s
}

/// `text`, cut to at most `max` characters (the last one an ellipsis) when longer.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn axis_title(axis: &AxisSpec) -> String {
    match axis.scale {
        Scale::Log => format!("{} (log)", axis.label),
        _ => axis.label.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_one_two_five_times_a_power_of_ten() {
        let (t, step) = nice_ticks(0.0, 9.3, 6);
        assert_eq!(step, 2.0);
        assert_eq!(t, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let (t, step) = nice_ticks(-0.013, 0.041, 5);
        assert!((step - 0.02).abs() < 1e-12, "{step}");
        assert!(t[0] <= -0.013 && *t.last().unwrap() >= 0.041);
        let (t, _) = nice_ticks(3.0, 3.0, 6);
        assert!(t[0] < 3.0 && *t.last().unwrap() > 3.0);
    }

    #[test]
    fn log_ticks_are_decades() {
        assert_eq!(log_ticks(2e-5, 0.05), vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1]);
        assert_eq!(log_ticks(2.0, 8.0), vec![1.0, 2.0, 5.0, 10.0]);
    }

    #[test]
    fn numbers_are_formatted_the_same_way_everywhere() {
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(-0.0, 1.0), "0");
        assert_eq!(tick_label(2e-5, 1e-5), "2e-05");
        assert_eq!(short(1.0 / 3.0), "0.333333");
        assert_eq!(short(1234.5), "1234.5");
        assert_eq!(short(1.5e-7), "1.5e-07");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(cut("learning_rate", 20), "learning_rate");
        assert_eq!(cut("learning_rate", 6), "learn…");
    }
}
