//! Grid search.
/// Grid search (placeholder during bring-up).
#[derive(Debug)]
pub struct GridSampler;
