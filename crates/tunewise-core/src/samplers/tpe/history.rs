//! What TPE knows of the study: finished trials cached by number, the joint space and its
//! groups kept incrementally, and the good/bad split.

use std::sync::Arc;

use crate::direction::Direction;
use crate::frozen::{FrozenTrial, TrialState};
use crate::sampler::StudyView;

use super::mo;
use super::parzen::{Column, DimSpec};
use super::{Settings, TpeWeights};

/// A finished (complete or pruned) trial.
struct Obs {
    trial: Arc<FrozenTrial>,
    /// Model-space values of `History::row_space` (NaN when missing).
    row: Vec<f64>,
}

/// The good/bad split of the cached observations (indices into `obs`, in number order).
struct Split {
    n_obs: usize,
    good: Vec<usize>,
    bad: Vec<usize>,
}

/// The rows and weights of one estimator pair.
pub(super) struct Data {
    /// Which of the requested columns this group holds.
    pub(super) columns: Vec<usize>,
    pub(super) good: Vec<f64>,
    pub(super) good_w: Vec<f64>,
    pub(super) bad: Vec<f64>,
    pub(super) bad_w: Vec<f64>,
    /// Per dimension, the bad rows in the order of their values (ties by row), kept
    /// incrementally so that the neighbour bandwidths need no sort.
    pub(super) bad_orders: Option<Vec<Vec<usize>>>,
    /// The trial number of each bad row (`u64::MAX` for running trials).
    pub(super) bad_numbers: Vec<u64>,
}

/// A key whose unsigned order is the numeric order of the (non-NaN) float.
pub(super) fn order_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

#[derive(Default)]
pub(super) struct History {
    /// Id of trial 0, to notice a different study.
    first_id: Option<u64>,
    /// Every trial below this number is finished and seen.
    prefix: usize,
    seen: Vec<bool>,
    obs: Vec<Obs>,
    /// Intersection of the finished trials' spaces (None before the first).
    space: Option<Vec<Column>>,
    /// Group decomposition of the finished trials' spaces.
    groups: Vec<Vec<Column>>,
    /// Names seen with two distributions: left to univariate sampling in group mode.
    conflicts: Vec<Arc<str>>,
    row_space: Vec<Column>,
    /// Per row-space column: `(order_key(value), trial number)` of every observation that has
    /// it, sorted.
    sorted: Vec<Vec<(u64, u64)>>,
    split: Option<Split>,
}

fn same_column(a: &Column, name: &str, d: &Arc<crate::Distribution>) -> bool {
    &*a.name == name && (Arc::ptr_eq(&a.distribution, d) || *a.distribution == **d)
}

/// The model-space value of `column` in `trial`, NaN when absent or of another distribution.
fn value_of(trial: &FrozenTrial, column: &Column) -> f64 {
    for p in &trial.params {
        if Arc::ptr_eq(&p.name, &column.name) || *p.name == *column.name {
            if Arc::ptr_eq(&p.distribution, &column.distribution)
                || *p.distribution == *column.distribution
            {
                return DimSpec::to_model(&column.distribution, p.internal);
            }
            return f64::NAN;
        }
    }
    f64::NAN
}

fn row_of(trial: &FrozenTrial, columns: &[Column]) -> Vec<f64> {
    columns.iter().map(|c| value_of(trial, c)).collect()
}

/// Optuna's default weights (see [`TpeWeights::Ramp`]).
fn ramp(n: usize, weights: TpeWeights) -> Vec<f64> {
    if n < 25 || weights == TpeWeights::Uniform {
        return vec![1.0; n];
    }
    let m = n - 25;
    let start = 1.0 / n as f64;
    let mut w: Vec<f64> = (0..m)
        .map(|i| if m == 1 { start } else { start + (1.0 - start) * i as f64 / (m - 1) as f64 })
        .collect();
    w.resize(n, 1.0);
    w
}

/// Sort key of a trial for the single-objective split: class (0 complete, 1 pruned,
/// 2 infeasible), then two numbers, smaller first.
fn rank_key(t: &FrozenTrial, direction: Direction) -> (u8, f64, f64) {
    if !t.is_feasible() {
        let violation: f64 = t.constraints.iter().map(|c| c.max(0.0)).sum();
        return (2, violation, 0.0);
    }
    match t.state {
        TrialState::Complete => {
            let v = t.values.as_deref().and_then(|v| v.first()).copied().unwrap_or(f64::NAN);
            (0, nan_last(direction.to_minimize(v)), 0.0)
        }
        _ => match t.last_step() {
            Some((step, v)) => (
                1,
                -(step as f64),
                nan_last(direction.to_minimize(v.first().copied().unwrap_or(f64::NAN))),
            ),
            None => (1, f64::INFINITY, f64::INFINITY),
        },
    }
}

fn nan_last(x: f64) -> f64 {
    if x.is_nan() {
        f64::INFINITY
    } else {
        x
    }
}

fn cmp_key(a: &(u8, f64, f64), b: &(u8, f64, f64)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.total_cmp(&b.2))
}

impl History {
    /// Finished trials known (complete and pruned).
    pub(super) fn len(&self) -> usize {
        self.obs.len()
    }

    /// Reads the trials finished since the last call: O(trials not yet settled).
    pub(super) fn update(&mut self, view: &StudyView<'_>) {
        let trials = view.trials();
        let first = trials.first().map(|t| t.id);
        if trials.len() < self.seen.len() || (self.first_id.is_some() && first != self.first_id) {
            *self = History::default();
        }
        self.first_id = first;
        self.seen.resize(trials.len(), false);
        let mut settled = true;
        for (i, t) in trials.iter().enumerate().skip(self.prefix) {
            if !t.state.is_finished() {
                settled = false;
                continue;
            }
            if settled {
                self.prefix = i + 1;
            }
            if std::mem::replace(&mut self.seen[i], true) {
                continue;
            }
            let usable = match t.state {
                TrialState::Complete => {
                    t.values.as_ref().is_some_and(|v| v.len() == view.directions().len())
                }
                TrialState::Pruned => true,
                _ => false,
            };
            if usable {
                self.add(t.clone());
            }
        }
    }

    fn add(&mut self, t: Arc<FrozenTrial>) {
        let columns: Vec<Column> = t
            .params
            .iter()
            .filter(|p| !p.distribution.is_single())
            .map(|p| Column::new(p.name.clone(), p.distribution.clone()))
            .collect();
        match &mut self.space {
            None => self.space = Some(columns.clone()),
            Some(s) => {
                s.retain(|c| columns.iter().any(|k| same_column(c, &k.name, &k.distribution)))
            }
        }
        self.update_groups(columns);
        let row = row_of(&t, &self.row_space);
        for (sorted, v) in self.sorted.iter_mut().zip(&row) {
            if !v.is_nan() {
                let e = (order_key(*v), t.number);
                let at = sorted.partition_point(|x| *x < e);
                sorted.insert(at, e);
            }
        }
        let pos = self.obs.partition_point(|o| o.trial.number < t.number);
        self.obs.insert(pos, Obs { trial: t, row });
        self.split = None;
    }

    /// Optuna's group decomposition: split every group into the part this trial has and the
    /// part it has not; its remaining parameters form a new group.
    fn update_groups(&mut self, mut rest: Vec<Column>) {
        for c in &rest {
            let conflict = self
                .groups
                .iter()
                .flatten()
                .any(|g| *g.name == *c.name && !same_column(g, &c.name, &c.distribution));
            if conflict && !self.conflicts.iter().any(|n| **n == *c.name) {
                self.conflicts.push(c.name.clone());
            }
        }
        let conflicts = &self.conflicts;
        rest.retain(|c| !conflicts.iter().any(|n| **n == *c.name));
        rest.sort_by(|a, b| a.name.cmp(&b.name));
        let mut groups = Vec::with_capacity(self.groups.len() + 2);
        for g in self.groups.drain(..) {
            let (inter, diff): (Vec<Column>, Vec<Column>) = g
                .into_iter()
                .filter(|c| !conflicts.iter().any(|n| **n == *c.name))
                .partition(|c| rest.iter().any(|r| r.name == c.name));
            rest.retain(|r| !inter.iter().any(|c| c.name == r.name));
            if !inter.is_empty() {
                groups.push(inter);
            }
            if !diff.is_empty() {
                groups.push(diff);
            }
        }
        if !rest.is_empty() {
            groups.push(rest);
        }
        self.groups = groups;
    }

    /// The space to sample jointly: the intersection, or the union of the groups.
    pub(super) fn relative_columns(&self, group: bool) -> Vec<Column> {
        if group {
            self.groups.iter().flatten().cloned().collect()
        } else {
            self.space.clone().unwrap_or_default()
        }
    }

    /// Makes the cached rows hold `columns`.
    fn ensure_rows(&mut self, columns: &[Column]) {
        let same = self.row_space.len() == columns.len()
            && self
                .row_space
                .iter()
                .zip(columns)
                .all(|(a, b)| same_column(a, &b.name, &b.distribution));
        if !same {
            self.row_space = columns.to_vec();
            self.sorted = vec![Vec::new(); columns.len()];
            for o in &mut self.obs {
                o.row = row_of(&o.trial, columns);
                for (sorted, v) in self.sorted.iter_mut().zip(&o.row) {
                    if !v.is_nan() {
                        sorted.push((order_key(*v), o.trial.number));
                    }
                }
            }
            for sorted in &mut self.sorted {
                sorted.sort_unstable();
            }
        }
    }

    fn split(&mut self, directions: &[Direction], settings: Settings) -> &Split {
        let n = self.obs.len();
        if self.split.as_ref().map_or(true, |s| s.n_obs != n) {
            // Optuna 5: capped at 25 with one objective, uncapped with several (unless set).
            let cap = settings.gamma_cap.unwrap_or(if directions.len() == 1 { 25 } else { n });
            let n_good = ((settings.gamma * n as f64).ceil() as usize).min(cap).min(n);
            let mut good = if let [direction] = directions {
                let mut idx: Vec<(usize, (u8, f64, f64))> = self
                    .obs
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (i, rank_key(&o.trial, *direction)))
                    .collect();
                let by = |a: &(usize, (u8, f64, f64)), b: &(usize, (u8, f64, f64))| {
                    cmp_key(&a.1, &b.1).then(a.0.cmp(&b.0))
                };
                if n_good > 0 && n_good < n {
                    idx.select_nth_unstable_by(n_good - 1, by);
                }
                idx[..n_good].iter().map(|(i, _)| *i).collect::<Vec<usize>>()
            } else {
                self.split_multi(directions, n_good)
            };
            good.sort_unstable();
            let mut is_good = vec![false; n];
            for &i in &good {
                is_good[i] = true;
            }
            let bad = (0..n).filter(|i| !is_good[*i]).collect();
            self.split = Some(Split { n_obs: n, good, bad });
        }
        match &self.split {
            Some(s) => s,
            None => unreachable!("the split was just computed"),
        }
    }

    /// MOTPE's split: complete feasible trials by non-domination front, the last front cut by
    /// greedy hypervolume; then pruned and infeasible trials as in the single-objective case
    /// (ranked on the first objective).
    fn split_multi(&self, directions: &[Direction], n_good: usize) -> Vec<usize> {
        let (complete, others): (Vec<usize>, Vec<usize>) = (0..self.obs.len()).partition(|&i| {
            let t = &self.obs[i].trial;
            t.state == TrialState::Complete && t.is_feasible()
        });
        if complete.len() <= n_good {
            let mut rest: Vec<(usize, (u8, f64, f64))> =
                others.iter().map(|&i| (i, rank_key(&self.obs[i].trial, directions[0]))).collect();
            rest.sort_by(|a, b| cmp_key(&a.1, &b.1).then(a.0.cmp(&b.0)));
            let mut good = complete;
            let fill = n_good - good.len();
            good.extend(rest.iter().take(fill).map(|(i, _)| *i));
            return good;
        }
        let points: Vec<Vec<f64>> =
            complete.iter().map(|&i| self.minimized(i, directions)).collect();
        let mut good = Vec::with_capacity(n_good);
        for front in crate::multi_objective::fronts(&points) {
            let room = n_good - good.len();
            if room == 0 {
                break;
            }
            if front.len() <= room {
                good.extend(front.iter().map(|&j| complete[j]));
            } else {
                let cands: Vec<&[f64]> = front.iter().map(|&j| points[j].as_slice()).collect();
                let reference = mo::reference_point(&cands);
                for k in mo::greedy_subset(&cands, room, &reference) {
                    good.push(complete[front[k]]);
                }
            }
        }
        good
    }

    fn minimized(&self, i: usize, directions: &[Direction]) -> Vec<f64> {
        let v = self.obs[i].trial.values.as_deref().unwrap_or(&[]);
        directions.iter().zip(v).map(|(d, x)| d.to_minimize(*x)).collect()
    }

    /// Weights of the good observations: the ramp with one objective; uniform with several
    /// (Optuna 5's MOTPE: the good trials' weights no longer follow their hypervolume
    /// contributions).
    fn good_weights(n: usize, directions: &[Direction], w: TpeWeights) -> Vec<f64> {
        if directions.len() >= 2 {
            return vec![1.0; n];
        }
        ramp(n, w)
    }

    /// For each column of `g`, the rows of `rows` (`n × g.len()`; the first `kept.len()` are the
    /// observations `kept`, the rest running trials) in the order of their values, ties by row:
    /// read off the sorted lists in O(observations) instead of sorting.
    fn orders(&self, g: &[usize], kept: &[usize], rows: &[f64], n: usize) -> Vec<Vec<usize>> {
        let d = g.len();
        let top = self.obs.last().map_or(0, |o| o.trial.number as usize + 1);
        let mut pos = vec![u32::MAX; top];
        for (p, &i) in kept.iter().enumerate() {
            pos[self.obs[i].trial.number as usize] = p as u32;
        }
        g.iter()
            .enumerate()
            .map(|(jj, &c)| {
                let mut order: Vec<usize> = Vec::with_capacity(n);
                order.extend(self.sorted[c].iter().filter_map(|(_, number)| {
                    let p = *pos.get(*number as usize)?;
                    (p != u32::MAX).then_some(p as usize)
                }));
                for p in kept.len()..n {
                    let key = (order_key(rows[p * d + jj]), p);
                    let at = order.partition_point(|&q| (order_key(rows[q * d + jj]), q) < key);
                    order.insert(at, p);
                }
                order
            })
            .collect()
    }

    /// One-parameter rows for univariate TPE.
    pub(super) fn univariate(
        &mut self,
        directions: &[Direction],
        column: &Column,
        running: &[Arc<FrozenTrial>],
        settings: Settings,
    ) -> Data {
        let split = self.split(directions, settings);
        let (good_idx, bad_idx) = (split.good.clone(), split.bad.clone());
        let pick = |idx: &[usize]| -> (Vec<usize>, Vec<f64>) {
            let mut kept = Vec::with_capacity(idx.len());
            let mut vals = Vec::with_capacity(idx.len());
            for &i in idx {
                let v = value_of(&self.obs[i].trial, column);
                if !v.is_nan() {
                    kept.push(i);
                    vals.push(v);
                }
            }
            (kept, vals)
        };
        let (good_kept, good) = pick(&good_idx);
        let (bad_kept, mut bad) = pick(&bad_idx);
        let good_w = Self::good_weights(good_kept.len(), directions, settings.weights);
        let mut n_bad = bad_kept.len();
        for t in running {
            let v = value_of(t, column);
            if !v.is_nan() {
                bad.push(v);
                n_bad += 1;
            }
        }
        let bad_w = ramp(n_bad, settings.weights);
        Data {
            columns: vec![0],
            good,
            good_w,
            bad,
            bad_w,
            bad_orders: None,
            bad_numbers: Vec::new(),
        }
    }

    /// Rows of every group of `columns` to sample jointly: one group (multivariate) or the
    /// group decomposition restricted to `columns`.
    pub(super) fn joint(
        &mut self,
        directions: &[Direction],
        columns: &[Column],
        running: &[Arc<FrozenTrial>],
        settings: Settings,
    ) -> Vec<Data> {
        self.ensure_rows(columns);
        let groups: Vec<Vec<usize>> = if settings.group {
            self.groups
                .iter()
                .map(|g| {
                    g.iter()
                        .filter_map(|c| {
                            columns.iter().position(|k| same_column(k, &c.name, &c.distribution))
                        })
                        .collect::<Vec<usize>>()
                })
                .filter(|g| !g.is_empty())
                .collect()
        } else {
            vec![(0..columns.len()).collect()]
        };
        let split = self.split(directions, settings);
        let (good_idx, bad_idx) = (split.good.clone(), split.bad.clone());
        let running_rows: Vec<Vec<f64>> = running.iter().map(|t| row_of(t, columns)).collect();
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let d = g.len();
            let full = d == columns.len();
            let gather = |idx: &[usize], rows: &mut Vec<f64>| -> Vec<usize> {
                rows.reserve(idx.len() * d);
                let mut kept = Vec::with_capacity(idx.len());
                for &i in idx {
                    let row = &self.obs[i].row;
                    if full {
                        if row.iter().all(|v| !v.is_nan()) {
                            rows.extend_from_slice(row);
                            kept.push(i);
                        }
                    } else if g.iter().all(|&c| !row[c].is_nan()) {
                        rows.extend(g.iter().map(|&c| row[c]));
                        kept.push(i);
                    }
                }
                kept
            };
            let mut good = Vec::new();
            let mut bad = Vec::new();
            let good_kept = gather(&good_idx, &mut good);
            let bad_kept = gather(&bad_idx, &mut bad);
            let mut n_bad = bad_kept.len();
            for row in &running_rows {
                if g.iter().all(|&c| !row[c].is_nan()) {
                    bad.extend(g.iter().map(|&c| row[c]));
                    n_bad += 1;
                }
            }
            // Scott's rule needs no order (one bandwidth per dimension).
            let bad_orders =
                (!settings.scott_bandwidth).then(|| self.orders(&g, &bad_kept, &bad, n_bad));
            let mut bad_numbers: Vec<u64> =
                bad_kept.iter().map(|&i| self.obs[i].trial.number).collect();
            bad_numbers.resize(n_bad, u64::MAX);
            let good_w = Self::good_weights(good_kept.len(), directions, settings.weights);
            let bad_w = ramp(n_bad, settings.weights);
            out.push(Data { columns: g, good, good_w, bad, bad_w, bad_orders, bad_numbers });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_weights_follow_optuna() {
        assert_eq!(ramp(3, TpeWeights::Ramp), vec![1.0; 3]);
        let w = ramp(30, TpeWeights::Ramp);
        assert_eq!(w.len(), 30);
        assert!((w[0] - 1.0 / 30.0).abs() < 1e-12);
        assert!((w[4] - 1.0).abs() < 1e-12);
        assert!(w[..5].windows(2).all(|p| p[0] < p[1]));
        assert!(w[5..].iter().all(|x| *x == 1.0));
        assert_eq!(ramp(30, TpeWeights::Uniform), vec![1.0; 30]);
    }
}
