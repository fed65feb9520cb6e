//! A small seeded generator for the unit tests.

/// Draws in `0..m` from a xorshift64 state that starts at `seed` (not 0).
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |m| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    }
}
