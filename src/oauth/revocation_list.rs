//! The revoked `jti`s of unexpired access tokens, in memory so that
//! introspection reads no row. Loaded in full before the server listens,
//! added to at once by this instance's revocations, and merged with other
//! instances' revocations by the `RevocationWatcher` actor's poll.

use std::collections::HashMap;
use std::sync::RwLock;

#[derive(Default)]
pub struct RevocationList {
    /// jti -> the token's `exp` (unix seconds), after which the entry is moot.
    revoked: RwLock<HashMap<String, i64>>,
}

impl RevocationList {
    /// Fails closed: if the lock was poisoned the token counts as revoked.
    pub fn contains(&self, jti: &str) -> bool {
        self.revoked.read().map_or(true, |m| m.contains_key(jti))
    }

    pub fn insert(&self, jti: &str, exp: i64) {
        if let Ok(mut m) = self.revoked.write() {
            m.insert(jti.to_owned(), exp);
        }
    }

    /// Adds `rows` and forgets entries whose token has expired anyway.
    pub fn merge(&self, rows: impl IntoIterator<Item = (String, i64)>, now: i64) {
        if let Ok(mut m) = self.revoked.write() {
            m.extend(rows);
            m.retain(|_, exp| *exp > now);
        }
    }

    pub fn len(&self) -> usize {
        self.revoked.read().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_and_forgets_expired_entries() {
        let list = RevocationList::default();
        list.insert("a", 100);
        list.merge([("b".to_owned(), 200), ("c".to_owned(), 50)], 100);
        assert!(!list.contains("a"), "expired at 100");
        assert!(list.contains("b"));
        assert!(!list.contains("c"));
        assert_eq!(list.len(), 1);
    }
}
