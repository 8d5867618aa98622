//! fANOVA on our own random forest (Hutter, Hoos and Leyton-Brown 2014).

use std::sync::Arc;

use super::forest::{ForestSettings, LeafBox, RandomForestRegressor};
use super::{prepare, ImportanceEvaluator, Importances, Target};
use crate::error::Result;
use crate::frozen::FrozenTrial;

/// Functional ANOVA on a random forest: the share of the objective's variance over the search
/// space that each parameter explains on its own.
///
/// **What it measures.** A [`RandomForestRegressor`] is fitted to the trials, every parameter
/// scaled to `[0, 1]`. Each tree cuts that unit cube into boxes (its leaves), so the tree's
/// function is known everywhere and its ANOVA decomposition is exact: the marginal of
/// parameter `i` at a value `v` is the volume-weighted mean of the leaves whose box contains
/// `v` along `i`; its variance over `[0, 1]` (piecewise constant between the tree's thresholds
/// on `i`), divided by the tree's total variance, is the parameter's share in that tree. The
/// shares are averaged over the trees, then normalised to sum to 1. Only single-parameter
/// (main) effects are computed; interactions are the remainder.
///
/// **Categoricals**: a categorical's choices become equal cells of `[0, 1]` in the order of its
/// choices (ordinal codes, no one-hot). A tree isolates any choice with at most two splits,
/// and the marginal is exact over the cells, so the order of the choices changes how many splits
/// the forest needs, not what is measured.
///
/// **When to use it**: to see which parameters explain the objective over the whole search space
/// (global importance), with some hundreds of trials. For "what mattered to reach the best
/// trials", or with thousands of trials and little time, use [`super::PedAnovaEvaluator`].
///
/// **Cost**: the forest, about `n_trees · d · n log² n` for `n` trials and `d` parameters (with
/// bootstrap samples and no depth limit), then `O(n_trees · d · L log L)` for `L` leaves per
/// tree. 1,000 trials × 5 parameters with 64 trees: see `docs/benchmarks.md`.
///
/// **Defaults** (Optuna's `FanovaImportanceEvaluator`, which uses scikit-learn's forest):
/// 64 trees, depth up to 64, `min_samples_split` 2, `min_samples_leaf` 1, every feature tried at
/// each split, bootstrap samples, seed 0. The same seed and trials give the same importances.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FanovaEvaluator {
    forest: ForestSettings,
}

impl FanovaEvaluator {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Seed of the forest.
    pub fn seed(mut self, seed: u64) -> Self {
        self.forest.seed = seed;
        self
    }

    /// Number of trees (default 64).
    pub fn n_trees(mut self, n: usize) -> Self {
        self.forest.n_trees = n;
        self
    }

    /// Deepest level of a tree (default 64).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.forest.max_depth = depth;
        self
    }

    /// Fewest samples a node needs to be split (default 2).
    pub fn min_samples_split(mut self, n: usize) -> Self {
        self.forest.min_samples_split = n;
        self
    }

    /// Fewest samples a leaf keeps (default 1).
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.forest.min_samples_leaf = n;
        self
    }

    /// Parameters tried at each split (default: all).
    pub fn max_features(mut self, n: Option<usize>) -> Self {
        self.forest.max_features = n;
        self
    }

    /// The forest's settings.
    pub fn forest_settings(&self) -> &ForestSettings {
        &self.forest
    }
}

impl ImportanceEvaluator for FanovaEvaluator {
    fn evaluate(
        &self,
        trials: &[Arc<FrozenTrial>],
        params: Option<&[&str]>,
        target: Target,
    ) -> Result<Importances> {
        let data = prepare(trials, params, &target)?;
        let forest = RandomForestRegressor::fit(&data.x, &data.y, &self.forest)?;
        let d = data.names.len();
        let unit_cube = vec![(0.0, 1.0); d];
        let mut sums = vec![0.0; d];
        let mut counted = 0usize;
        for tree in forest.trees() {
            if let Some(shares) = tree_shares(&tree.leaf_boxes(&unit_cube), d) {
                for (s, v) in sums.iter_mut().zip(shares) {
                    *s += v;
                }
                counted += 1;
            }
        }
        let means: Vec<f64> =
            sums.iter().map(|s| if counted > 0 { s / counted as f64 } else { 0.0 }).collect();
        Ok(Importances::from_scores(&data.names, &means))
    }
}

/// Each parameter's variance share in one tree, or `None` when the tree is constant.
fn tree_shares(leaves: &[LeafBox], d: usize) -> Option<Vec<f64>> {
    let volumes: Vec<f64> =
        leaves.iter().map(|l| l.bounds.iter().map(|(lo, hi)| hi - lo).product()).collect();
    let mean: f64 = leaves.iter().zip(&volumes).map(|(l, v)| v * l.value).sum();
    let total: f64 = leaves.iter().zip(&volumes).map(|(l, v)| v * (l.value - mean).powi(2)).sum();
    if total <= f64::EPSILON * mean.abs().max(1.0).powi(2) {
        return None;
    }
    let shares = (0..d)
        .map(|i| {
            // The tree's cut points on dimension i split [0, 1] into cells on which the
            // marginal is constant.
            let mut cuts: Vec<f64> =
                leaves.iter().flat_map(|l| [l.bounds[i].0, l.bounds[i].1]).collect();
            cuts.sort_by(f64::total_cmp);
            cuts.dedup();
            let position = |v: f64| cuts.partition_point(|c| *c < v);
            // Each leaf adds value × (its volume outside dimension i) to the cells it spans:
            // a difference array, summed once.
            let mut diff = vec![0.0; cuts.len()];
            for (l, v) in leaves.iter().zip(&volumes) {
                let (lo, hi) = l.bounds[i];
                let width = hi - lo;
                if width <= 0.0 {
                    continue;
                }
                let c = l.value * v / width;
                diff[position(lo)] += c;
                diff[position(hi)] -= c;
            }
            let mut marginal = 0.0;
            let mut variance = 0.0;
            for j in 0..cuts.len().saturating_sub(1) {
                marginal += diff[j];
                variance += (cuts[j + 1] - cuts[j]) * (marginal - mean).powi(2);
            }
            variance / total
        })
        .collect();
    Some(shares)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(bounds: &[(f64, f64)], value: f64) -> LeafBox {
        LeafBox { bounds: bounds.to_vec(), value }
    }

    #[test]
    fn an_additive_tree_splits_its_variance_exactly() {
        // f(a, b) = 2·[a > 0.5] + [b > 0.5]: variances 1 and 0.25, no interaction.
        let leaves = [
            leaf(&[(0.0, 0.5), (0.0, 0.5)], 0.0),
            leaf(&[(0.0, 0.5), (0.5, 1.0)], 1.0),
            leaf(&[(0.5, 1.0), (0.0, 0.5)], 2.0),
            leaf(&[(0.5, 1.0), (0.5, 1.0)], 3.0),
        ];
        let s = tree_shares(&leaves, 2).unwrap();
        assert!((s[0] - 0.8).abs() < 1e-12 && (s[1] - 0.2).abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn a_pure_interaction_has_no_main_effect() {
        // XOR: all variance is in the interaction.
        let leaves = [
            leaf(&[(0.0, 0.5), (0.0, 0.5)], 0.0),
            leaf(&[(0.0, 0.5), (0.5, 1.0)], 1.0),
            leaf(&[(0.5, 1.0), (0.0, 0.5)], 1.0),
            leaf(&[(0.5, 1.0), (0.5, 1.0)], 0.0),
        ];
        let s = tree_shares(&leaves, 2).unwrap();
        assert!(s.iter().all(|v| v.abs() < 1e-12), "{s:?}");
    }

    #[test]
    fn unequal_cells_are_weighted_by_volume() {
        // f(a) = 1 on [0, 0.25), 0 elsewhere: mean 0.25, variance 0.1875, all of it a's.
        let leaves = [leaf(&[(0.0, 0.25), (0.0, 1.0)], 1.0), leaf(&[(0.25, 1.0), (0.0, 1.0)], 0.0)];
        let s = tree_shares(&leaves, 2).unwrap();
        assert!((s[0] - 1.0).abs() < 1e-12 && s[1].abs() < 1e-12, "{s:?}");
        assert!(tree_shares(&[leaf(&[(0.0, 1.0)], 3.0)], 1).is_none());
    }
}
