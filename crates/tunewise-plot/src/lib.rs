//! Figures of a tunewise study: the data of each figure, computed in Rust, its SVG, and a
//! self-contained HTML report.
//!
//! # Concept map
//!
//! - A figure function reads a study's trials and returns a serde-serialisable figure: axis
//!   labels, log-scale flags (taken from the parameter's distribution) and the data.
//!   [`history`] (value by trial and the best so far), [`slice()`] (value against one parameter),
//!   [`intermediate`] (intermediate values by step, pruned trials marked), [`pareto`] (two
//!   objectives, front highlighted), [`edf`] (empirical distribution of values), [`timeline`]
//!   (trials from start to end, by trial or by worker), [`parallel_coordinates`] (one axis per
//!   parameter and the objective, one line per trial), [`contour`] (the objective over two
//!   parameters, interpolated, filled), [`importance()`] (one bar per parameter: how much the
//!   objective depends on it, by an evaluator of `tunewise_core::importance`).
//! - [`Figure`] holds any of them; [`to_svg`] draws it as a deterministic SVG document (fixed
//!   number formatting, 1-2-5 ticks, log axes where the parameter is log-scale).
//! - [`Figure::downsample`] bounds the points of large studies (the dashboard serves 50,000-trial
//!   studies): the history keeps every improvement, so the best-so-far line stays exact.
//! - [`report_html`] puts a [`Summary`] and the figures' SVGs in one HTML page with no external
//!   assets.
//!
//! # Quick start
//!
//! ```
//! use tunewise_core::{Budget, RandomSampler, Study, TrialError};
//! use tunewise_plot::{history, Figure};
//!
//! let study = Study::builder().minimize().sampler(RandomSampler::with_seed(3)).create()?;
//! study.optimize(
//!     |t| -> Result<f64, TrialError> { Ok(t.suggest_float("x", -1.0, 1.0)?.powi(2)) },
//!     Budget::trials(20),
//! )?;
//! let figure = Figure::History(history(&study.trials()?, study.directions(), 0)?);
//! let svg = figure.to_svg();
//! assert!(svg.starts_with("<svg"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod contour;
mod edf;
mod error;
mod figure;
mod history;
mod importance;
mod intermediate;
mod parallel;
mod pareto;
mod report;
mod slice;
mod svg;
mod timeline;

pub use contour::{contour, ContourFigure};
pub use edf::{edf, EdfFigure};
pub use error::{Error, Result};
pub use figure::{to_svg, Axis, Figure, TrialPoint};
pub use history::{history, HistoryFigure};
pub use importance::{importance, ImportanceBar, ImportanceFigure};
pub use intermediate::{intermediate, IntermediateFigure, TrialLine};
pub use parallel::{parallel_coordinates, ParallelFigure, ParallelLine};
pub use pareto::{pareto, ParetoFigure, ParetoPoint};
pub use report::{report_html, BestTrial, Summary};
pub use slice::{slice, SliceFigure};
pub use timeline::{timeline, TimelineBar, TimelineFigure};

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<Figure>();
        send_sync::<Summary>();
        send_sync::<Error>();
    }
}
