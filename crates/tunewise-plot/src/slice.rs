//! Slice plot: the objective's value against one parameter.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};
use tunewise_core::{Direction, FrozenTrial};

use crate::error::{Error, Result};
use crate::figure::{
    by_number, complete_values, direction_of, list, objective_label, param_axis, param_coordinate,
    param_names, Axis, TrialPoint,
};
use crate::svg::{render, Chart, Marker, Series, PALETTE};

/// The objective's value against one parameter, one point per complete trial that has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceFigure {
    /// Title.
    pub title: String,
    /// The parameter (log when its distribution is, categories for a categorical).
    pub x: Axis,
    /// Objective value.
    pub y: Axis,
    /// The parameter's name.
    pub param: String,
    /// One point per complete trial with the parameter, in number order.
    pub points: Vec<TrialPoint>,
}

/// The slice of objective `objective` along parameter `param`.
pub fn slice<T: Borrow<FrozenTrial>>(
    trials: &[T],
    directions: &[Direction],
    param: &str,
    objective: usize,
) -> Result<SliceFigure> {
    direction_of(directions, objective)?;
    let Some(x) = param_axis(trials, param) else {
        return Err(Error::UnknownParam {
            name: param.to_owned(),
            known: list(&param_names(trials)),
        });
    };
    let mut points: Vec<TrialPoint> = complete_values(trials, objective)
        .into_iter()
        .filter_map(|(t, v)| {
            let p = t.param(param)?;
            Some(TrialPoint { number: t.number, x: param_coordinate(p), y: v })
        })
        .collect();
    if points.is_empty() {
        return Err(Error::NoCompleteTrials { figure: "slice" });
    }
    by_number(&mut points);
    Ok(SliceFigure {
        title: format!("Slice: {param}"),
        x,
        y: Axis::linear(objective_label(directions, objective)),
        param: param.to_owned(),
        points,
    })
}

impl SliceFigure {
    /// The figure as SVG.
    pub fn to_svg(&self) -> String {
        render(&Chart {
            title: self.title.clone(),
            x: self.x.spec(),
            y: self.y.spec(),
            series: vec![Series::Points {
                xy: self.points.iter().map(|p| (p.x, p.y)).collect(),
                colour: PALETTE[0],
                marker: Marker::Circle,
                label: None,
            }],
        })
    }
}
