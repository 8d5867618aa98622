//! Shared conformance suites, one per trait: every sampler and every storage backend passes
//! them (feature `conformance`).
