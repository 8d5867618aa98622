//! Our own random-forest regression: CART trees grown by variance reduction on bootstrap samples.
//!
//! Why our own: fANOVA needs each tree's partition of the input space (the box of every leaf),
//! which the machine-learning crates keep private; and the forest must be seeded by the engine's
//! [`Rng`] so that the same seed gives the same importances on every platform.

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Settings of a [`RandomForestRegressor`], checked by [`RandomForestRegressor::fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct ForestSettings {
    /// Number of trees (at least 1).
    pub n_trees: usize,
    /// Deepest level a tree may reach (the root is depth 0; at least 1).
    pub max_depth: usize,
    /// Fewest samples a node needs to be split (at least 2).
    pub min_samples_split: usize,
    /// Fewest samples each side of a split must keep (at least 1).
    pub min_samples_leaf: usize,
    /// Features tried at each split, drawn at random without replacement; `None` tries all.
    pub max_features: Option<usize>,
    /// Grow each tree on a bootstrap sample (drawn with replacement) rather than on all samples.
    pub bootstrap: bool,
    /// Seed of the forest's generator.
    pub seed: u64,
}

impl Default for ForestSettings {
    /// 64 trees of depth up to 64, splits down to single samples, all features, bootstrap, seed 0.
    fn default() -> Self {
        ForestSettings {
            n_trees: 64,
            max_depth: 64,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: None,
            bootstrap: true,
            seed: 0,
        }
    }
}

impl ForestSettings {
    fn validate(&self) -> Result<()> {
        let bad = |field: &str, why: &str| {
            Err(Error::InvalidConfig(format!("random forest: {field} {why}")))
        };
        if self.n_trees == 0 {
            return bad("n_trees", "must be at least 1");
        }
        if self.max_depth == 0 {
            return bad("max_depth", "must be at least 1");
        }
        if self.min_samples_split < 2 {
            return bad("min_samples_split", "must be at least 2");
        }
        if self.min_samples_leaf == 0 {
            return bad("min_samples_leaf", "must be at least 1");
        }
        if self.max_features == Some(0) {
            return bad("max_features", "must be at least 1 (or None for all features)");
        }
        Ok(())
    }
}

/// One node of a tree, in a flat vector (children come after their parent).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A leaf predicting the mean of its samples.
    Leaf { value: f64 },
    /// `x[feature] <= threshold` goes to `left`, otherwise to `right`.
    Split { feature: usize, threshold: f64, left: usize, right: usize },
}

/// One regression tree (CART, variance reduction).
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionTree {
    nodes: Vec<Node>,
}

impl RegressionTree {
    /// The prediction for one input.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            match self.nodes.get(i) {
                Some(Node::Leaf { value }) => return *value,
                Some(Node::Split { feature, threshold, left, right }) => {
                    let v = x.get(*feature).copied().unwrap_or(f64::NAN);
                    i = if v <= *threshold { *left } else { *right };
                }
                None => return f64::NAN,
            }
        }
    }

    /// The number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| matches!(n, Node::Leaf { .. })).count()
    }

    #[cfg(test)]
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The leaves as boxes of the space `bounds` (one `(low, high)` per feature): each leaf's
    /// lower and upper corners and its value.
    pub(crate) fn leaf_boxes(&self, bounds: &[(f64, f64)]) -> Vec<LeafBox> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, bounds.to_vec())];
        while let Some((i, b)) = stack.pop() {
            match self.nodes.get(i) {
                Some(Node::Leaf { value }) => out.push(LeafBox { bounds: b, value: *value }),
                Some(Node::Split { feature, threshold, left, right }) => {
                    let mut lb = b.clone();
                    let mut rb = b;
                    if let (Some(l), Some(r)) = (lb.get_mut(*feature), rb.get_mut(*feature)) {
                        l.1 = threshold.min(l.1);
                        r.0 = threshold.max(r.0);
                    }
                    stack.push((*right, rb));
                    stack.push((*left, lb));
                }
                None => {}
            }
        }
        out
    }
}

/// A leaf of a tree as a box of the input space.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LeafBox {
    /// `(low, high)` per feature.
    pub bounds: Vec<(f64, f64)>,
    /// The leaf's prediction.
    pub value: f64,
}

/// A random forest of CART regression trees.
///
/// Each tree grows on a bootstrap sample (or all samples), choosing at every node the split of
/// largest variance reduction among `max_features` features drawn at random; thresholds lie half
/// way between consecutive distinct values. The same settings and data give the same forest.
///
/// ```
/// use tunewise_core::importance::{ForestSettings, RandomForestRegressor};
///
/// let x: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64 / 20.0]).collect();
/// let y: Vec<f64> = x.iter().map(|r| if r[0] < 0.5 { 0.0 } else { 1.0 }).collect();
/// let forest = RandomForestRegressor::fit(&x, &y, &ForestSettings::default())?;
/// assert!(forest.predict(&[0.1]) < 0.2 && forest.predict(&[0.9]) > 0.8);
/// # Ok::<(), tunewise_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RandomForestRegressor {
    trees: Vec<RegressionTree>,
    n_features: usize,
}

impl RandomForestRegressor {
    /// Fits a forest to the rows `x` (one `Vec` per sample, all of one length) and targets `y`.
    ///
    /// Errors when the settings are invalid, when `x` and `y` differ in length or are empty,
    /// when rows differ in length, or when a value is not finite.
    pub fn fit(x: &[Vec<f64>], y: &[f64], settings: &ForestSettings) -> Result<Self> {
        settings.validate()?;
        if x.is_empty() {
            return Err(Error::InvalidConfig("random forest: no samples to fit".into()));
        }
        if x.len() != y.len() {
            return Err(Error::InvalidConfig(format!(
                "random forest: {} input rows but {} targets; give one target per row",
                x.len(),
                y.len()
            )));
        }
        let n_features = x[0].len();
        for (i, row) in x.iter().enumerate() {
            if row.len() != n_features {
                return Err(Error::InvalidConfig(format!(
                    "random forest: row {i} has {} features, row 0 has {n_features}",
                    row.len()
                )));
            }
            if row.iter().any(|v| !v.is_finite()) || !y[i].is_finite() {
                return Err(Error::InvalidConfig(format!(
                    "random forest: row {i} holds a value that is not a finite number"
                )));
            }
        }
        // Column-major copy: the split search reads one feature of many samples.
        let columns: Vec<Vec<f64>> =
            (0..n_features).map(|f| x.iter().map(|r| r[f]).collect()).collect();
        let n = x.len();
        let trees = (0..settings.n_trees)
            .map(|t| {
                let mut rng = Rng::derive(settings.seed, &[t as u64]);
                let samples: Vec<usize> = if settings.bootstrap {
                    (0..n).map(|_| rng.below(n as u64) as usize).collect()
                } else {
                    (0..n).collect()
                };
                let mut grower = Grower { columns: &columns, y, settings, rng, nodes: Vec::new() };
                grower.grow(samples, 0);
                RegressionTree { nodes: grower.nodes }
            })
            .collect();
        Ok(RandomForestRegressor { trees, n_features })
    }

    /// The mean prediction of the trees for one input.
    pub fn predict(&self, x: &[f64]) -> f64 {
        self.trees.iter().map(|t| t.predict(x)).sum::<f64>() / self.trees.len() as f64
    }

    /// The trees.
    pub fn trees(&self) -> &[RegressionTree] {
        &self.trees
    }

    /// The number of features the forest was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
}

struct Grower<'a> {
    columns: &'a [Vec<f64>],
    y: &'a [f64],
    settings: &'a ForestSettings,
    rng: Rng,
    nodes: Vec<Node>,
}

/// The best split found at a node.
struct BestSplit {
    feature: usize,
    threshold: f64,
    /// Sum of squared errors of the two children (lower is better).
    sse: f64,
}

impl Grower<'_> {
    /// Grows the subtree of `samples` at `depth` and returns its node index.
    fn grow(&mut self, samples: Vec<usize>, depth: usize) -> usize {
        let index = self.nodes.len();
        let mean = samples.iter().map(|&i| self.y[i]).sum::<f64>() / samples.len() as f64;
        self.nodes.push(Node::Leaf { value: mean });
        if depth >= self.settings.max_depth
            || samples.len() < self.settings.min_samples_split
            || samples.len() < 2 * self.settings.min_samples_leaf
        {
            return index;
        }
        let Some(best) = self.best_split(&samples) else {
            return index;
        };
        let (left, right): (Vec<usize>, Vec<usize>) =
            samples.into_iter().partition(|&i| self.columns[best.feature][i] <= best.threshold);
        let l = self.grow(left, depth + 1);
        let r = self.grow(right, depth + 1);
        self.nodes[index] =
            Node::Split { feature: best.feature, threshold: best.threshold, left: l, right: r };
        index
    }

    fn best_split(&mut self, samples: &[usize]) -> Option<BestSplit> {
        let n_features = self.columns.len();
        let mut features: Vec<usize> = (0..n_features).collect();
        let k = self.settings.max_features.map_or(n_features, |m| m.min(n_features));
        if k < n_features {
            // A partial Fisher–Yates shuffle: the first k are a uniform draw without replacement.
            for i in 0..k {
                let j = i + self.rng.below((n_features - i) as u64) as usize;
                features.swap(i, j);
            }
            features.truncate(k);
        }
        let total: f64 = samples.iter().map(|&i| self.y[i]).sum();
        let total_sq: f64 = samples.iter().map(|&i| self.y[i] * self.y[i]).sum();
        let n = samples.len();
        let parent_sse = total_sq - total * total / n as f64;
        if parent_sse <= 1e-12 * total_sq.max(1.0) {
            return None; // a pure node: nothing to reduce
        }
        let min_leaf = self.settings.min_samples_leaf;
        let mut best: Option<BestSplit> = None;
        let mut order: Vec<usize> = samples.to_vec();
        for &f in &features {
            let col = &self.columns[f];
            order.sort_by(|&a, &b| col[a].total_cmp(&col[b]));
            let (mut sum, mut sq) = (0.0, 0.0);
            for pos in 0..n - 1 {
                let yi = self.y[order[pos]];
                sum += yi;
                sq += yi * yi;
                let left_n = pos + 1;
                let (lo, hi) = (col[order[pos]], col[order[pos + 1]]);
                if left_n < min_leaf || n - left_n < min_leaf || lo >= hi {
                    continue;
                }
                let right_n = n - left_n;
                let sse = (sq - sum * sum / left_n as f64)
                    + ((total_sq - sq) - (total - sum) * (total - sum) / right_n as f64);
                if best.as_ref().map_or(true, |b| sse < b.sse) {
                    let mut threshold = lo + (hi - lo) / 2.0;
                    // Half way can round up to `hi` for neighbours one ulp apart.
                    if threshold >= hi {
                        threshold = lo;
                    }
                    best = Some(BestSplit { feature: f, threshold, sse });
                }
            }
        }
        best.filter(|b| b.sse < parent_sse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact() -> ForestSettings {
        ForestSettings { n_trees: 1, bootstrap: false, ..ForestSettings::default() }
    }

    #[test]
    fn fits_a_step_function() {
        let x: Vec<Vec<f64>> =
            (0..40).map(|i| vec![i as f64 / 40.0, (i * 7 % 40) as f64]).collect();
        let y: Vec<f64> = x.iter().map(|r| if r[0] < 0.3 { -1.0 } else { 2.0 }).collect();
        let forest = RandomForestRegressor::fit(&x, &y, &exact()).unwrap();
        assert_eq!(forest.trees()[0].n_leaves(), 2, "one split suffices");
        assert_eq!(forest.predict(&[0.1, 5.0]), -1.0);
        assert_eq!(forest.predict(&[0.9, 5.0]), 2.0);
        match forest.trees()[0].nodes()[0] {
            Node::Split { feature, threshold, .. } => {
                assert_eq!(feature, 0);
                assert!(threshold > 11.0 / 40.0 && threshold < 12.0 / 40.0, "{threshold}");
            }
            Node::Leaf { .. } => panic!("the root should split"),
        }
    }

    #[test]
    fn predicts_training_data_exactly_with_single_sample_leaves() {
        let mut rng = Rng::new(3);
        let x: Vec<Vec<f64>> =
            (0..100).map(|_| vec![rng.uniform(), rng.uniform(), rng.uniform()]).collect();
        let y: Vec<f64> = x.iter().map(|r| (5.0 * r[0]).sin() + r[1] * r[2]).collect();
        let forest = RandomForestRegressor::fit(&x, &y, &exact()).unwrap();
        for (r, v) in x.iter().zip(&y) {
            assert_eq!(forest.predict(r), *v);
        }
    }

    #[test]
    fn same_seed_same_forest_and_bootstrap_differs_by_seed() {
        let mut rng = Rng::new(5);
        let x: Vec<Vec<f64>> = (0..60).map(|_| vec![rng.uniform(), rng.uniform()]).collect();
        let y: Vec<f64> = x.iter().map(|r| r[0] * r[0] + 0.1 * r[1]).collect();
        let s = ForestSettings { n_trees: 8, max_features: Some(1), ..ForestSettings::default() };
        let a = RandomForestRegressor::fit(&x, &y, &s).unwrap();
        let b = RandomForestRegressor::fit(&x, &y, &s).unwrap();
        assert_eq!(a, b);
        let c = RandomForestRegressor::fit(&x, &y, &ForestSettings { seed: 1, ..s }).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn min_samples_leaf_and_max_depth_are_respected() {
        let x: Vec<Vec<f64>> = (0..50).map(|i| vec![i as f64]).collect();
        let y: Vec<f64> = (0..50).map(|i| (i * i) as f64).collect();
        let s = ForestSettings { min_samples_leaf: 10, ..exact() };
        let f = RandomForestRegressor::fit(&x, &y, &s).unwrap();
        assert!(f.trees()[0].n_leaves() <= 5);
        let s = ForestSettings { max_depth: 2, ..exact() };
        let f = RandomForestRegressor::fit(&x, &y, &s).unwrap();
        assert!(f.trees()[0].n_leaves() <= 4);
    }

    #[test]
    fn leaf_boxes_partition_the_space() {
        let mut rng = Rng::new(9);
        let x: Vec<Vec<f64>> = (0..80).map(|_| vec![rng.uniform(), rng.uniform()]).collect();
        let y: Vec<f64> = x.iter().map(|r| r[0] + 2.0 * r[1]).collect();
        let f = RandomForestRegressor::fit(&x, &y, &exact()).unwrap();
        let boxes = f.trees()[0].leaf_boxes(&[(0.0, 1.0), (0.0, 1.0)]);
        let volume: f64 =
            boxes.iter().map(|b| b.bounds.iter().map(|(l, h)| h - l).product::<f64>()).sum();
        assert!((volume - 1.0).abs() < 1e-12);
        assert_eq!(boxes.len(), f.trees()[0].n_leaves());
    }

    #[test]
    fn bad_input_is_refused_with_its_reason() {
        let e = RandomForestRegressor::fit(&[vec![1.0]], &[1.0, 2.0], &exact()).unwrap_err();
        assert!(e.to_string().contains("1 input rows but 2 targets"), "{e}");
        let e = RandomForestRegressor::fit(&[vec![f64::NAN]], &[1.0], &exact()).unwrap_err();
        assert!(e.to_string().contains("not a finite number"), "{e}");
        let s = ForestSettings { n_trees: 0, ..exact() };
        let e = RandomForestRegressor::fit(&[vec![1.0]], &[1.0], &s).unwrap_err();
        assert!(e.to_string().contains("n_trees"), "{e}");
    }
}
