//! Random identifiers in the formats AWS uses.

use rand::RngCore;

/// `<prefix>` followed by 64 random lowercase hex characters (e.g. `wr_…`, `jr_…`).
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}
