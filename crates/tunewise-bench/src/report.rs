//! The markdown report: one table of final regrets from the JSON lines of one or more harness
//! runs (tunewise's and the Optuna script's).
//!
//! Rows are functions, columns are framework/sampler pairs (tunewise first, then the others,
//! samplers in the order they first appear). A cell is the median final regret over the seeds
//! with its interquartile range, `median [q1, q3]`. Below the functions: the mean sampler time
//! per trial of each column, and for each tunewise sampler with an Optuna namesake, on how many
//! functions its median is at most Optuna's.

use std::fmt::Write;

use crate::harness::{RunRecord, FRAMEWORK};

/// The framework name of the Optuna script's records.
pub const OPTUNA: &str = "optuna";

/// The tunewise samplers compared with an Optuna sampler in the report's summary lines, with
/// that sampler: each with its namesake, and the automatic sampler (tunewise's default) with
/// Optuna's default, its TPE.
pub const COUNTERPARTS: [(&str, &str); 5] =
    [("tpe", "tpe"), ("auto", "tpe"), ("gp", "gp"), ("cmaes", "cmaes"), ("nsga2", "nsga2")];

/// The Optuna sampler a tunewise sampler is compared with: Optuna's default (TPE) for the
/// automatic sampler, the namesake otherwise.
pub fn counterpart(sampler: &str) -> &str {
    COUNTERPARTS.iter().find(|(ours, _)| *ours == sampler).map_or(sampler, |(_, theirs)| theirs)
}

/// The `p`-quantile of sorted values, interpolating linearly between order statistics.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// A number in three significant digits, switching to exponents outside \[0.001, 10,000).
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "—".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e4).contains(&a) {
        return format!("{x:.2e}");
    }
    let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Columns in their order: tunewise first, then the other frameworks by name; samplers in the
/// order they first appear.
fn columns(records: &[RunRecord]) -> Vec<(String, String)> {
    let mut columns: Vec<(String, String)> = Vec::new();
    for r in records {
        let c = (r.framework.clone(), r.sampler.clone());
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    // A stable sort keeps the order of first appearance within a framework.
    columns.sort_by_key(|(f, _)| (f != FRAMEWORK, f.clone()));
    columns
}

/// The median final regret of a column on a function (`None` without runs).
fn median_regret(records: &[RunRecord], function: &str, column: &(String, String)) -> Option<f64> {
    let r = regrets(records, function, column);
    (!r.is_empty()).then(|| quantile(&r, 0.5))
}

fn regrets(
    records: &[RunRecord],
    function: &str,
    (framework, sampler): &(String, String),
) -> Vec<f64> {
    let mut r: Vec<f64> = records
        .iter()
        .filter(|r| r.function == function && &r.framework == framework && &r.sampler == sampler)
        // A run that completed nothing counts as the worst possible.
        .map(|r| r.final_regret.unwrap_or(f64::INFINITY))
        .collect();
    r.sort_by(f64::total_cmp);
    r
}

/// The markdown table of `records`.
pub fn report(records: &[RunRecord]) -> String {
    let columns = columns(records);
    let mut functions: Vec<String> = Vec::new();
    for r in records {
        if !functions.contains(&r.function) {
            functions.push(r.function.clone());
        }
    }
    let mut out = String::new();
    let budgets: Vec<usize> = {
        let mut b: Vec<usize> = records.iter().map(|r| r.budget).collect();
        b.sort_unstable();
        b.dedup();
        b
    };
    let seeds = {
        let mut s: Vec<u64> = records.iter().map(|r| r.seed).collect();
        s.sort_unstable();
        s.dedup();
        s.len()
    };
    let budgets: Vec<String> = budgets.iter().map(|b| b.to_string()).collect();
    let _ = writeln!(
        out,
        "Final regret, median [q1, q3] over {seeds} seeds at {} trials (smaller is better; \
         multi-objective functions: hypervolume regret).\n",
        budgets.join("/")
    );
    let header: Vec<String> = columns.iter().map(|(f, s)| format!("{f} {s}")).collect();
    let _ = writeln!(out, "| function | {} |", header.join(" | "));
    let _ = writeln!(out, "| --- |{}", " --- |".repeat(columns.len()));
    for function in &functions {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                let r = regrets(records, function, c);
                if r.is_empty() {
                    return "—".into();
                }
                format!(
                    "{} [{}, {}]",
                    format_number(quantile(&r, 0.5)),
                    format_number(quantile(&r, 0.25)),
                    format_number(quantile(&r, 0.75))
                )
            })
            .collect();
        let _ = writeln!(out, "| {function} | {} |", cells.join(" | "));
    }
    let times: Vec<String> = columns
        .iter()
        .map(|(f, s)| {
            let t: Vec<f64> = records
                .iter()
                .filter(|r| &r.framework == f && &r.sampler == s)
                .map(|r| r.sampler_ms_per_trial)
                .collect();
            format_number(t.iter().sum::<f64>() / t.len() as f64)
        })
        .collect();
    let _ = writeln!(out, "| *sampler ms per trial (mean)* | {} |", times.join(" | "));
    let win_cells: Vec<String> = columns
        .iter()
        .map(|c| match wins(records, &functions, &c.1, counterpart(&c.1)) {
            Some((k, n)) if c.0 == FRAMEWORK => format!("{k} of {n}"),
            _ => String::new(),
        })
        .collect();
    let _ = writeln!(
        out,
        "| *functions where tunewise median ≤ Optuna median* | {} |",
        win_cells.join(" | ")
    );
    out.push('\n');
    let mut measured = 0;
    for (ours, theirs) in COUNTERPARTS {
        if let Some((k, n)) = wins(records, &functions, ours, theirs) {
            measured += 1;
            let _ = writeln!(
                out,
                "Functions where tunewise {ours} median ≤ Optuna {theirs} median: **{k} of {n}**."
            );
        }
    }
    if measured == 0 {
        let _ = writeln!(
            out,
            "No tunewise sampler was run beside its Optuna counterpart (tpe, auto against tpe, \
             gp, cmaes, nsga2): nothing to compare."
        );
    }
    out
}

/// On how many functions run by tunewise's sampler `ours` and Optuna's `theirs` tunewise's
/// median final regret is at most Optuna's: `(k, n)`, `None` when no function has both.
pub fn wins(
    records: &[RunRecord],
    functions: &[String],
    ours: &str,
    theirs: &str,
) -> Option<(usize, usize)> {
    let ours = (FRAMEWORK.to_owned(), ours.to_owned());
    let theirs = (OPTUNA.to_owned(), theirs.to_owned());
    let mut k = 0;
    let mut n = 0;
    for f in functions {
        if let (Some(a), Some(b)) =
            (median_regret(records, f, &ours), median_regret(records, f, &theirs))
        {
            n += 1;
            if a <= b {
                k += 1;
            }
        }
    }
    (n > 0).then_some((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&[7.0], 0.75), 7.0);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(1.23456), "1.23");
        assert_eq!(format_number(123.456), "123");
        assert_eq!(format_number(0.0123456), "0.0123");
        assert_eq!(format_number(12345.6), "1.23e4");
        assert_eq!(format_number(0.000_012_3), "1.23e-5");
    }
}
