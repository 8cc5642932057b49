//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
//! Cookies"): a browser that completed a sign-in for an account carries a
//! signed entry naming that account. Failures from browsers without one
//! count toward the account's lock for unknown devices; a browser with one
//! has a failure budget of its own. So an attacker guessing from fresh
//! cookie jars locks out only other unknown devices, never the owner's
//! browser. The entry only chooses the budget: it never replaces a factor.

use crate::crypto::SecretHasher;
use crate::store::lockouts::Budget;
use crate::store::sessions::hash_secret;

/// Accounts one browser remembers (newest first); beyond this the oldest
/// is forgotten (shared computers, test accounts).
const MAX_ENTRIES: usize = 5;
/// How long a browser stays trusted without signing in again.
pub const MAX_AGE_SECS: i64 = 180 * 24 * 3600;
const PREFIX: &str = "hmac-sha256$";

/// A verified entry of the device cookie: this browser completed a
/// sign-in for `user_id`.
#[derive(Clone, PartialEq, Eq)]
pub struct Device {
    user_id: String,
    nonce: String,
    /// The device's key in storage: a hash of the nonce, so the table holds
    /// nothing a cookie could be rebuilt from.
    id: String,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device").field("user_id", &self.user_id).finish_non_exhaustive()
    }
}

impl Device {
    fn new(user_id: &str, nonce: String) -> Self {
        Self { user_id: user_id.to_owned(), id: hash_secret(&nonce), nonce }
    }
}

fn binding(user_id: &str, nonce: &str) -> String {
    format!("device|{user_id}|{nonce}")
}

/// The entries of a device cookie whose signatures verify; anything else
/// (forged, truncated, another deployment's) is ignored.
pub fn parse(hasher: &SecretHasher, value: &str) -> Vec<Device> {
    value
        .split('~')
        .take(MAX_ENTRIES)
        .filter_map(|entry| {
            let mut parts = entry.split('.');
            let (user_id, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || user_id.is_empty() || nonce.is_empty() {
                return None;
            }
            let valid = hasher.verify(&binding(user_id, nonce), &format!("{PREFIX}{mac}"));
            valid.then(|| Device::new(user_id, nonce.to_owned()))
        })
        .collect()
}

/// The budget a sign-in attempt for `user_id` counts toward, from the
/// browser's verified entries.
pub fn budget<'a>(devices: &'a [Device], user_id: &'a str) -> Budget<'a> {
    match devices.iter().find(|d| d.user_id == user_id) {
        Some(d) => Budget::Device { user_id, device_id: &d.id },
        None => Budget::Unknown { user_id },
    }
}

/// The cookie value after a completed sign-in for `user_id`: its entry
/// first (the one it had, or a new one), the others after it.
pub fn remember(
    hasher: &SecretHasher,
    devices: &[Device],
    user_id: &str,
) -> Result<String, crate::crypto::RandomError> {
    let mine = match devices.iter().find(|d| d.user_id == user_id) {
        Some(d) => d.clone(),
        None => Device::new(user_id, crate::crypto::random_token(16)?),
    };
    let others = devices.iter().filter(|d| d.user_id != user_id).take(MAX_ENTRIES - 1);
    let entries: Vec<String> = std::iter::once(&mine)
        .chain(others)
        .map(|d| {
            let mac = hasher.hash(&binding(&d.user_id, &d.nonce));
            format!("{}.{}.{}", d.user_id, d.nonce, mac.trim_start_matches(PREFIX))
        })
        .collect();
    Ok(entries.join("~"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;

    fn hasher(seed: u8) -> SecretHasher {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD.encode([seed; 32]);
        SecretHasher::new(&MasterKey::decode(&key).unwrap())
    }

    #[test]
    fn entries_round_trip_and_forgeries_are_ignored() {
        let h = hasher(1);
        let one = remember(&h, &[], "u1").unwrap();
        let both = remember(&h, &parse(&h, &one), "u2").unwrap();
        let devices = parse(&h, &both);
        assert_eq!(devices.iter().map(|d| d.user_id.as_str()).collect::<Vec<_>>(), ["u2", "u1"]);
        // Signing in again keeps the device (same id), moved to the front.
        let again = parse(&h, &remember(&h, &devices, "u1").unwrap());
        assert_eq!(again[0], devices[1]);
        // Another key, a swapped account, garbage: not trusted.
        assert!(parse(&hasher(2), &both).is_empty());
        let swapped = both.replacen("u2.", "u3.", 1);
        assert_eq!(parse(&h, &swapped).len(), 1);
        for junk in ["", "~", "a.b", "a.b.c.d", "..", "u1..x"] {
            assert!(parse(&h, junk).is_empty(), "{junk}");
        }
    }

    #[test]
    fn the_budget_is_the_devices_only_for_its_account() {
        let h = hasher(1);
        let devices = parse(&h, &remember(&h, &[], "u1").unwrap());
        assert!(matches!(budget(&devices, "u1"), Budget::Device { .. }));
        assert_eq!(budget(&devices, "u2"), Budget::Unknown { user_id: "u2" });
    }

    #[test]
    fn a_browser_remembers_a_bounded_number_of_accounts() {
        let h = hasher(1);
        let mut value = String::new();
        for i in 0..8 {
            value = remember(&h, &parse(&h, &value), &format!("u{i}")).unwrap();
        }
        let devices = parse(&h, &value);
        assert_eq!(devices.len(), MAX_ENTRIES);
        assert_eq!(devices[0].user_id, "u7");
    }
}
