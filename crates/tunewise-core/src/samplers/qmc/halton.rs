//! Halton points, written here: a radical inverse per dimension in the next prime base,
//! Owen-scrambled by nested random affine digit permutations.
//!
//! Written rather than taken from a crate: it is a few dozen lines, and the `halton` crate is
//! unscrambled and limited to bases below 256 (54 dimensions).
//!
//! **Scrambling.** Digit `k` of the radical inverse (the `k`-th least significant digit of the
//! index, placed at `b^-(k+1)`) goes through a permutation of `0..b` chosen by a keyed hash of
//! the seed, the dimension and the digits before it: Owen's nested scrambling (Owen 1995). Each
//! permutation is affine, `d -> (a d + c) mod b` with `a` in `1..b` and `c` in `0..b`; since `b`
//! is prime this draws every ordered pair of distinct images equally often, the pairwise property
//! on which the variance of Owen scrambling depends (Matoušek 1998; in base 2 it is exactly a
//! uniform random bit flip). Digits are scrambled down to 2^-53, past the index's own digits,
//! so scrambled values fill the whole `[0, 1)` rather than a grid. The first `b^m` points of a
//! dimension still fall one in each of `b^m` equal cells, and the first `2^m 3^n` points of the
//! first two dimensions one in each `2^-m × 3^-n` box.

use crate::rng::mix64;

use super::key;

/// Digits of the index in base 2 at most, and of the scrambled fraction.
const MAX_DIGITS: usize = 64;

/// The largest `f64` below 1.
const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// Appends the first `dims` coordinates of point `index` to `out`, each in `[0, 1)`.
pub(super) fn point(index: u64, dims: usize, seed: u64, scramble: bool, out: &mut Vec<f64>) {
    for (j, base) in primes(dims).into_iter().enumerate() {
        let x = if scramble {
            scrambled_radical_inverse(index, base, key(seed, &[j as u64]))
        } else {
            radical_inverse(index, base)
        };
        out.push(x.min(BELOW_ONE));
    }
}

/// The first `n` primes (trial division: the bases of a few hundred dimensions cost
/// microseconds).
pub(super) fn primes(n: usize) -> Vec<u64> {
    let mut primes: Vec<u64> = Vec::with_capacity(n);
    let mut candidate = 2u64;
    while primes.len() < n {
        if primes.iter().take_while(|p| *p * *p <= candidate).all(|p| candidate % p != 0) {
            primes.push(candidate);
        }
        candidate += 1;
    }
    primes
}

/// The digits of `value` in `base`, least significant first, and how many there are.
fn digits(mut value: u64, base: u64) -> ([u64; MAX_DIGITS], usize) {
    let mut d = [0; MAX_DIGITS];
    let mut n = 0;
    while value > 0 {
        d[n] = value % base;
        value /= base;
        n += 1;
    }
    (d, n)
}

/// Σ d_k b^-(k+1), summed from the least significant end (Horner) so rounding stays at the
/// last bit.
fn fraction(d: &[u64], base: u64) -> f64 {
    let b = base as f64;
    d.iter().rev().fold(0.0, |x, &digit| (x + digit as f64) / b)
}

/// The van der Corput radical inverse of `index` in `base`.
fn radical_inverse(index: u64, base: u64) -> f64 {
    let (d, n) = digits(index, base);
    fraction(&d[..n], base)
}

/// Uniform integer in `0..n` from 64 random bits (multiply-high; the bias is below 2^-50 for
/// the bases used here).
fn below(bits: u64, n: u64) -> u64 {
    ((u128::from(bits) * u128::from(n)) >> 64) as u64
}

/// The radical inverse with each digit permuted by a nested affine permutation keyed by
/// `dim_key` and the digits before it.
fn scrambled_radical_inverse(index: u64, base: u64, dim_key: u64) -> f64 {
    let (mut d, n) = digits(index, base);
    // Enough digits that the scrambled value has a full f64 mantissa: base^count >= 2^53.
    let precision = (53.0 / (base as f64).log2()).ceil() as usize;
    let count = n.max(precision).min(MAX_DIGITS);
    // `state` hashes the digits seen so far: the node of the scrambling tree.
    let mut state = dim_key;
    for digit in d.iter_mut().take(count) {
        let a = 1 + below(mix64(state), base - 1);
        let c = below(mix64(state ^ 0x5851_F42D_4C95_7F2D), base);
        let original = *digit;
        *digit = (a * original + c) % base;
        state = mix64(state ^ mix64(original + 1));
    }
    fraction(&d[..count], base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_are_the_first_primes() {
        assert_eq!(primes(10), [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert_eq!(primes(0), Vec::<u64>::new());
        assert_eq!(*primes(100).last().unwrap(), 541);
    }

    #[test]
    fn radical_inverse_reverses_digits() {
        assert_eq!(radical_inverse(0, 2), 0.0);
        assert_eq!(radical_inverse(1, 2), 0.5);
        assert_eq!(radical_inverse(6, 2), 0.375); // 110 -> 0.011
        assert!((radical_inverse(5, 3) - 7.0 / 9.0).abs() < 1e-15); // 12 -> 0.21
    }

    #[test]
    fn points_stay_below_one_at_the_end_of_the_index_range() {
        // 64 binary ones round up to 1.0 in an f64: the point clamps it.
        assert_eq!(radical_inverse(u64::MAX, 2), 1.0);
        for scramble in [false, true] {
            let mut out = Vec::new();
            point(u64::MAX, 3, 1, scramble, &mut out);
            assert!(out.iter().all(|x| (0.0..1.0).contains(x)), "{out:?}");
        }
    }

    #[test]
    fn scrambled_digits_are_a_permutation_per_node() {
        // Points 0..b^2 in base b: the first two scrambled digits are all distinct pairs.
        for base in [2u64, 3, 5, 7] {
            let n = base * base;
            let mut cells: Vec<u64> = (0..n)
                .map(|i| (scrambled_radical_inverse(i, base, 42) * n as f64) as u64)
                .collect();
            cells.sort_unstable();
            assert_eq!(cells, (0..n).collect::<Vec<_>>(), "base {base}");
        }
    }
}
