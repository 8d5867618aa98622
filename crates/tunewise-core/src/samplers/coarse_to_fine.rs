//! Coarse-to-fine search.
/// Coarse-to-fine (placeholder during bring-up).
#[derive(Debug)]
pub struct CoarseToFineSampler;
