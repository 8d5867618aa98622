//! The integration tests of tunewise-ml, in one binary (one link on small machines).

#[path = "it/data.rs"]
mod data;

#[path = "it/split.rs"]
mod split;

#[path = "it/metrics.rs"]
mod metrics;

#[path = "it/gradient.rs"]
mod gradient;

#[path = "it/estimator.rs"]
mod estimator;

#[path = "it/cv.rs"]
mod cv;

#[path = "it/workflow.rs"]
mod workflow;

#[path = "it/pipeline.rs"]
mod pipeline;
