//! Sobol points from `sobol_burley`, Owen-scrambled with its hash.
//!
//! The crate gives the Sobol digits (Joe & Kuo 2008 direction numbers, 256 dimensions, 16 bits,
//! so 2^16 points) and Burley's hash-based Owen scramble. Only its integer building blocks
//! (`parts`) are used: no `f32` conversion (our values keep 32 bits) and not Burley's index
//! shuffle (the point of a trial is its number, so the order of the sequence is kept).
//!
//! Past its limits the sequence is extended the way Burley (2020) pads dimensions:
//! - dimension `j >= 256` is dimension `j % 256` under its own scramble (stratified within each
//!   group of 256 dimensions, only randomly associated across groups);
//! - index `i >= 2^16` is point `i % 2^16` of a block scrambled anew for each `i / 2^16`, so no
//!   point repeats.
//!
//! Without scrambling, these extensions still scramble, with a fixed key: the first 2^16 points
//! of the first 256 dimensions are the plain Sobol sequence.

use sobol_burley::parts::{owen_scramble_rev, sobol_rev};
use sobol_burley::NUM_DIMENSIONS;

use super::key;

/// Points per block: the crate's direction vectors have 16 bits.
const BLOCK_BITS: u32 = 16;

/// The key of the scrambles that extend an unscrambled sequence.
const UNSCRAMBLED_KEY: u64 = 0x736f_626f_6c5f_7061;

/// Appends the first `dims` coordinates of point `index` to `out`, each in `[0, 1)`.
pub(super) fn point(index: u64, dims: usize, seed: u64, scramble: bool, out: &mut Vec<f64>) {
    let block = index >> BLOCK_BITS;
    let within = (index & ((1 << BLOCK_BITS) - 1)) as u32;
    let within_rev = within.reverse_bits();
    for j in 0..dims as u64 {
        let base = (j % u64::from(NUM_DIMENSIONS)) as u32;
        let group = j / u64::from(NUM_DIMENSIONS);
        let mut rev = sobol_rev(within_rev, base);
        if scramble || group > 0 || block > 0 {
            let k = if scramble { seed } else { UNSCRAMBLED_KEY };
            // The scramble value must be well mixed (the crate's requirement): `key` is.
            rev = owen_scramble_rev(rev, (key(k, &[j, block]) >> 32) as u32);
        }
        out.push(f64::from(rev.reverse_bits()) * (1.0 / (1u64 << 32) as f64));
    }
}
