//! A search space: named distributions, declared up front.
//!
//! Define-by-run objectives do not need one; grids and relative (joint) sampling do.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::distribution::Distribution;
use crate::error::Result;
use crate::frozen::{FrozenTrial, TrialState};

/// Named distributions, sorted by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchSpace {
    params: BTreeMap<Arc<str>, Arc<Distribution>>,
}

impl SearchSpace {
    /// An empty space.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter, checking its distribution.
    pub fn add(mut self, name: &str, distribution: Distribution) -> Result<Self> {
        distribution.validate(name)?;
        self.params.insert(Arc::from(name), Arc::new(distribution));
        Ok(self)
    }

    /// Adds an already shared distribution (assumed valid).
    pub fn insert(&mut self, name: Arc<str>, distribution: Arc<Distribution>) {
        self.params.insert(name, distribution);
    }

    /// A parameter's distribution.
    pub fn get(&self, name: &str) -> Option<&Arc<Distribution>> {
        self.params.get(name)
    }

    /// Parameters in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Arc<Distribution>)> {
        self.params.iter()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The parameters that every finished (complete or pruned) trial has with the same
    /// distribution: the space a joint sampler can model. Single-valued distributions are left
    /// out, since there is nothing to choose.
    pub fn intersection<'a>(trials: impl IntoIterator<Item = &'a FrozenTrial>) -> Self {
        let mut space: Option<BTreeMap<Arc<str>, Arc<Distribution>>> = None;
        for t in trials {
            if !matches!(t.state, TrialState::Complete | TrialState::Pruned) {
                continue;
            }
            match &mut space {
                None => {
                    space = Some(
                        t.params
                            .iter()
                            .filter(|p| !p.distribution.is_single())
                            .map(|p| (p.name.clone(), p.distribution.clone()))
                            .collect(),
                    );
                }
                Some(s) => s.retain(|name, dist| {
                    t.param(name).is_some_and(|p| {
                        Arc::ptr_eq(&p.distribution, dist) || *p.distribution == **dist
                    })
                }),
            }
            if space.as_ref().is_some_and(BTreeMap::is_empty) {
                break;
            }
        }
        SearchSpace { params: space.unwrap_or_default() }
    }
}
