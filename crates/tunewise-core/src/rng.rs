//! The one seeded generator of the engine, and our own draws.
//!
//! Xoshiro256++ (via `rand_xoshiro`) with uniform, integer and normal draws written here, so the
//! same seed gives the same numbers on every platform and every version of the dependencies.
//! Generators are derived, not shared: a trial's generator comes from the sampler's seed, the trial
//! number and the parameter's name, so results do not depend on thread scheduling.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// SplitMix64 finalizer: spreads the bits of a 64-bit key (used to derive seeds).
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit key derived from a seed and a list of keys, for seeding generators and scrambles.
///
/// The seed and each key enter with different constants and positions, so the result is not
/// symmetric: seed `a` with key `b` and seed `b` with key `a` give unrelated keys (a symmetric
/// mix would make consecutive seeds replay each other's trials shifted by one).
pub fn derive_key(seed: u64, keys: &[u64]) -> u64 {
    let mut s = mix64(seed ^ 0x243F_6A88_85A3_08D3);
    for (i, k) in keys.iter().enumerate() {
        let salted = k.wrapping_add(0x1319_8A2E_0370_7344).wrapping_mul(2 * i as u64 + 1);
        s = mix64(s.rotate_left(23) ^ mix64(salted));
    }
    s
}

/// FNV-1a hash of a string: a stable key for parameter names (std's hashers are not stable).
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// A seedable generator with the draws samplers need.
#[derive(Debug, Clone)]
pub struct Rng(Xoshiro256PlusPlus);

impl Rng {
    /// A generator from a 64-bit seed.
    pub fn new(seed: u64) -> Self {
        Rng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// A generator derived from a seed and any number of keys (trial number, name hash, …).
    pub fn derive(seed: u64, keys: &[u64]) -> Self {
        Rng::new(derive_key(seed, keys))
    }

    /// A generator for one trial of a sampler.
    pub fn for_trial(seed: u64, number: u64) -> Self {
        Rng::derive(seed, &[number])
    }

    /// A generator for one parameter of one trial.
    pub fn for_param(seed: u64, number: u64, name: &str) -> Self {
        Rng::derive(seed, &[number, hash_str(name)])
    }

    /// A seed from the operating system, for studies created without one.
    pub fn os_seed() -> u64 {
        let mut buf = [0u8; 8];
        if rand_core::OsRng.try_fill_bytes(&mut buf).is_err() {
            // No OS randomness: fall back on the clock, which is still different run to run.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            return mix64(t ^ u64::from(std::process::id()));
        }
        u64::from_le_bytes(buf)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[low, high]` (`low` when the range is empty).
    pub fn uniform_range(&mut self, low: f64, high: f64) -> f64 {
        if high <= low {
            return low;
        }
        (low + self.uniform() * (high - low)).min(high)
    }

    /// Uniform integer in `[0, n)` without modulo bias (Lemire's method); 0 when `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Standard normal draw (Marsaglia's polar method, one value per call).
    pub fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * s.ln() / s).sqrt();
            }
        }
    }

    /// Shuffles a slice in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_not_symmetric_in_seed_and_key() {
        for a in 0..20u64 {
            for b in 0..20u64 {
                if a != b {
                    assert_ne!(derive_key(a, &[b]), derive_key(b, &[a]), "seed {a} key {b}");
                }
            }
        }
        assert_ne!(derive_key(1, &[2, 3]), derive_key(1, &[3, 2]));
        let mut x = Rng::for_trial(0, 1);
        let mut y = Rng::for_trial(1, 0);
        assert_ne!(x.next_u64(), y.next_u64());
    }
}
