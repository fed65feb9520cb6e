//! A small seeded generator, identical on every platform, for augmentation and synthetic data.
use rand_xoshiro::Xoshiro256StarStar;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

/// xoshiro256** seeded through SplitMix64 (`rand_xoshiro`): fast, reproducible, not
/// cryptographic. The streams are those every synthetic scene and experiment in `docs/` was made
/// with (a test keeps the algorithm written out beside it).
#[derive(Debug, Clone)]
pub struct Rng {
    inner: Xoshiro256StarStar,
}

impl Rng {
    /// A generator for `seed`; equal seeds give equal streams.
    pub fn new(seed: u64) -> Self {
        Rng {
            inner: Xoshiro256StarStar::seed_from_u64(seed),
        }
    }

    /// An independent stream for item `index` of a seeded run (e.g. one per image).
    pub fn fork(seed: u64, index: u64) -> Self {
        Rng::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03).rotate_left(17))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_seeds_give_equal_streams_and_ranges_hold() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
            assert!(r.below(5) < 5);
        }
        assert_ne!(Rng::fork(3, 0).next_u64(), Rng::fork(3, 1).next_u64());
    }

    /// xoshiro256** seeded through SplitMix64, written out from the published algorithms (Vigna,
    /// Blackman): `rand_xoshiro` must give the very streams dicekit's scenes were made with.
    #[test]
    fn the_crate_reproduces_the_published_algorithm_bit_for_bit() {
        fn reference(seed: u64, n: usize) -> Vec<u64> {
            let mut z = seed;
            let mut splitmix = || {
                z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut x = z;
                x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                x ^ (x >> 31)
            };
            let mut s = [splitmix(), splitmix(), splitmix(), splitmix()];
            (0..n)
                .map(|_| {
                    let r = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
                    let t = s[1] << 17;
                    s[2] ^= s[0];
                    s[3] ^= s[1];
                    s[1] ^= s[2];
                    s[0] ^= s[3];
                    s[2] ^= t;
                    s[3] = s[3].rotate_left(45);
                    r
                })
                .collect()
        }
        for seed in [0, 1, 7, 42, u64::MAX, 0xDEAD_BEEF] {
            let mut r = Rng::new(seed);
            let ours: Vec<u64> = (0..1000).map(|_| r.next_u64()).collect();
            assert_eq!(ours, reference(seed, 1000), "seed {seed}");
        }
    }
}
