// The hash of the compile-time lexicon table, shared by `build.rs` (which
// lays the table out) and the scorer (which probes it): both must agree
// bit for bit, so it reads bytes little-endian on every platform.

/// An Fx-style multiplicative hash over 8-byte chunks: a few cycles for a
/// typical word, where SipHash costs tens.
#[inline]
pub fn table_hash(key: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    // Fold the high bits down: the table is indexed by the low ones.
    h ^ (h >> 29)
}
