//! Numerical building blocks shared by the samplers (crate-private).

pub(crate) mod cholesky;
pub(crate) mod lbfgsb;
pub(crate) mod special;
