//! The HTML report: a summary table and every figure's SVG inline, in one self-contained file.

use std::borrow::Borrow;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, FrozenTrial, TrialState};

use crate::figure::Figure;
use crate::svg::{escape, short};

/// The facts at the top of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The objectives' directions.
    pub directions: Vec<Direction>,
    /// Trials by state: waiting, running, complete, pruned, failed.
    pub counts: Vec<(TrialState, usize)>,
    /// The best trial of a single-objective study: number, value and parameters (as text).
    pub best: Option<BestTrial>,
    /// Notes shown under the table: for example a figure left out, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The best trial, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestTrial {
    /// Its number.
    pub number: u64,
    /// Its value.
    pub value: f64,
    /// Its parameters, `(name, value)`, in suggestion order.
    pub params: Vec<(String, String)>,
}

impl Summary {
    /// Counts the trials by state and finds the best (for a single objective; ties go to the
    /// lowest number).
    pub fn of<T: Borrow<FrozenTrial>>(trials: &[T], directions: &[Direction]) -> Summary {
        let counts = TrialState::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    trials
                        .iter()
                        .map(Borrow::borrow)
                        .filter(|t: &&FrozenTrial| t.state == *s)
                        .count(),
                )
            })
            .collect();
        let best = match directions {
            [d] => {
                let mut best: Option<&FrozenTrial> = None;
                let mut complete: Vec<&FrozenTrial> = trials
                    .iter()
                    .map(Borrow::borrow)
                    .filter(|t| t.state == TrialState::Complete && t.is_feasible())
                    .filter(|t| t.value().is_some_and(f64::is_finite))
                    .collect();
                complete.sort_by_key(|t| t.number);
                for t in complete {
                    let better = match (best.and_then(FrozenTrial::value), t.value()) {
                        (Some(b), Some(v)) => d.better(v, b),
                        _ => true,
                    };
                    if better {
                        best = Some(t);
                    }
                }
                best.and_then(|t| {
                    Some(BestTrial {
                        number: t.number,
                        value: t.value()?,
                        params: t
                            .params
                            .iter()
                            .map(|p| (p.name.to_string(), p.value().to_string()))
                            .collect(),
                    })
                })
            }
            _ => None,
        };
        Summary { directions: directions.to_vec(), counts, best, notes: Vec::new() }
    }

    /// Adds a note shown under the summary table (for example "parameter importance left out:
    /// …").
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}

/// A self-contained HTML page: the study's name, the summary table, then each figure's SVG
/// inline (no scripts, styles or images from elsewhere).
pub fn report_html(study_name: &str, summary: &Summary, figures: &[Figure]) -> String {
    let mut h = String::new();
    let name = escape(study_name);
    let _ = writeln!(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">");
    let _ = writeln!(h, "<title>tunewise report: {name}</title>");
    h.push_str(
        "<style>\nbody { font-family: sans-serif; margin: 2em; color: #222; }\n\
         table { border-collapse: collapse; margin-bottom: 1.5em; }\n\
         td, th { border: 1px solid #ccc; padding: 0.25em 0.75em; text-align: left; }\n\
         figure { margin: 1.5em 0; }\n</style>\n</head>\n<body>\n",
    );
    let _ = writeln!(h, "<h1>Study {name}</h1>");
    let directions: Vec<String> = summary.directions.iter().map(ToString::to_string).collect();
    let _ = writeln!(h, "<table class=\"summary\">");
    let _ = writeln!(h, "<tr><th>directions</th><td>{}</td></tr>", escape(&directions.join(", ")));
    let total: usize = summary.counts.iter().map(|c| c.1).sum();
    let _ = writeln!(h, "<tr><th>trials</th><td>{total}</td></tr>");
    for (state, n) in &summary.counts {
        let _ = writeln!(h, "<tr><th>{state}</th><td>{n}</td></tr>");
    }
    if let Some(b) = &summary.best {
        let _ = writeln!(h, "<tr><th>best trial</th><td>{}</td></tr>", b.number);
        let _ = writeln!(h, "<tr><th>best value</th><td>{}</td></tr>", short(b.value));
        for (k, v) in &b.params {
            let _ = writeln!(h, "<tr><th>best {}</th><td>{}</td></tr>", escape(k), escape(v));
        }
    }
    let _ = writeln!(h, "</table>");
    for note in &summary.notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(note));
    }
    for f in figures {
        let _ = writeln!(h, "<figure>\n{}</figure>", f.to_svg());
    }
    h.push_str("</body>\n</html>\n");
    h
}
