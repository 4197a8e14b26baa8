//! A small seeded random number generator for tests that pick kill points and junk at random:
//! the seed is printed, and setting it again in the environment replays the same choices.

/// SplitMix64: tiny, fast and good enough to pick test inputs.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
    seed: u64,
}

impl Rng {
    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed, seed }
    }

    /// A generator seeded from `$var` when it is set (to replay a failure), else from the clock.
    /// The seed is printed to stderr, which the test harness shows when the test fails.
    pub fn from_env(var: &str) -> Rng {
        let seed = match std::env::var(var).ok().and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(s) => s,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
                .unwrap_or(42),
        };
        eprintln!("random seed: {seed} (replay with {var}={seed})");
        Rng::new(seed)
    }

    /// The seed this generator started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A generator for step `n` of a test, independent of how much of this one was used.
    pub fn fork(&self, n: u64) -> Rng {
        Rng::new(self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len().saturating_sub(1) as u64) as usize]
    }
}

/// A count from `$var`, else `default` (e.g. how many kill points to try).
pub fn env_count(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// Whether `$var` is set to something other than empty, `0` or `false`.
pub fn env_flag(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.range(0, 1000)).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.range(0, 1000)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|&x| x <= 1000));
        assert_ne!(Rng::new(7).fork(1).next_u64(), Rng::new(7).fork(2).next_u64());
    }
}
