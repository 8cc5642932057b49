//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
//! Cookies"): a browser that completed a sign-in for an account carries a
//! signed entry naming that account. Failures from browsers without one
//! count toward the account's lock for unknown devices; a browser with one
//! has a failure budget of its own. So an attacker guessing from fresh
//! cookie jars locks out only other unknown devices, never the owner's
//! browser. The entry only chooses the budget: it never replaces a factor.

use crate::crypto::SecretHasher;
use crate::crypto::hash_secret;
use crate::store::lockouts::Budget;

/// Accounts one browser remembers (newest first); beyond this the oldest
/// is forgotten (shared computers, test accounts).
const MAX_ENTRIES: usize = 5;
/// How long a browser stays trusted without signing in again: the entry
/// is signed with its issue time, so a copy stops working too.
pub const MAX_AGE_SECS: i64 = 180 * 24 * 3600;
const PREFIX: &str = "hmac-sha256$";

/// A verified entry of the device cookie: this browser completed a
/// sign-in for `user_id`.
#[derive(Clone, PartialEq, Eq)]
pub struct Device {
    user_id: String,
    nonce: String,
    /// When the entry was last signed (Unix seconds).
    issued: i64,
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
    fn new(user_id: &str, nonce: String, issued: i64) -> Self {
        Self { user_id: user_id.to_owned(), id: hash_secret(&nonce), nonce, issued }
    }
}

fn binding(user_id: &str, nonce: &str, issued: i64) -> String {
    format!("device|{user_id}|{nonce}|{issued}")
}

/// The entries of a device cookie whose signatures verify and that are
/// younger than [`MAX_AGE_SECS`]; anything else (forged, truncated,
/// expired, another deployment's) is ignored.
pub fn parse(hasher: &SecretHasher, value: &str, now: i64) -> Vec<Device> {
    value
        .split('~')
        .take(MAX_ENTRIES)
        .filter_map(|entry| {
            let mut parts = entry.split('.');
            let (user_id, nonce, issued, mac) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || user_id.is_empty() || nonce.is_empty() {
                return None;
            }
            let issued: i64 = issued.parse().ok()?;
            if !(now - MAX_AGE_SECS..=now + 60).contains(&issued) {
                return None;
            }
            let valid = hasher.verify(&binding(user_id, nonce, issued), &format!("{PREFIX}{mac}"));
            valid.then(|| Device::new(user_id, nonce.to_owned(), issued))
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

/// The cookie value after a completed sign-in for `user_id` at `now`: its
/// entry first (the device it was, re-signed now, or a new one), the
/// others after it as they were.
pub fn remember(
    hasher: &SecretHasher,
    devices: &[Device],
    user_id: &str,
    now: i64,
) -> Result<String, crate::crypto::RandomError> {
    let nonce = match devices.iter().find(|d| d.user_id == user_id) {
        Some(d) => d.nonce.clone(),
        None => crate::crypto::random_token(16)?,
    };
    let mine = Device::new(user_id, nonce, now);
    let others = devices.iter().filter(|d| d.user_id != user_id).take(MAX_ENTRIES - 1);
    let entries: Vec<String> = std::iter::once(&mine)
        .chain(others)
        .map(|d| {
            let mac = hasher.hash(&binding(&d.user_id, &d.nonce, d.issued));
            format!("{}.{}.{}.{}", d.user_id, d.nonce, d.issued, mac.trim_start_matches(PREFIX))
        })
        .collect();
    Ok(entries.join("~"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;

    const NOW: i64 = 1_800_000_000;

    fn hasher(seed: u8) -> SecretHasher {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD.encode([seed; 32]);
        SecretHasher::new(&MasterKey::decode(&key).unwrap())
    }

    #[test]
    fn entries_round_trip_and_forgeries_are_ignored() {
        let h = hasher(1);
        let one = remember(&h, &[], "u1", NOW).unwrap();
        let both = remember(&h, &parse(&h, &one, NOW), "u2", NOW).unwrap();
        let devices = parse(&h, &both, NOW);
        assert_eq!(devices.iter().map(|d| d.user_id.as_str()).collect::<Vec<_>>(), ["u2", "u1"]);
        // Signing in again keeps the device (same id), moved to the front.
        let again = parse(&h, &remember(&h, &devices, "u1", NOW + 5).unwrap(), NOW + 5);
        assert_eq!((again[0].user_id.as_str(), &again[0].id), ("u1", &devices[1].id));
        // Another key, a swapped account, a moved issue time, garbage: not trusted.
        assert!(parse(&hasher(2), &both, NOW).is_empty());
        assert_eq!(parse(&h, &both.replacen("u2.", "u3.", 1), NOW).len(), 1);
        assert_eq!(parse(&h, &both.replacen(&format!(".{NOW}."), &format!(".{}.", NOW + 1), 1), NOW).len(), 1);
        for junk in ["", "~", "a.b", "a.b.c", "a.b.c.d.e", "...", "u1..1.x", "u1.n.x.mac"] {
            assert!(parse(&h, junk, NOW).is_empty(), "{junk}");
        }
    }

    #[test]
    fn entries_expire() {
        let h = hasher(1);
        let value = remember(&h, &[], "u1", NOW).unwrap();
        assert_eq!(parse(&h, &value, NOW + MAX_AGE_SECS).len(), 1);
        assert!(parse(&h, &value, NOW + MAX_AGE_SECS + 1).is_empty(), "too old");
        assert!(parse(&h, &value, NOW - 3600).is_empty(), "from the future");
    }

    #[test]
    fn the_budget_is_the_devices_only_for_its_account() {
        let h = hasher(1);
        let devices = parse(&h, &remember(&h, &[], "u1", NOW).unwrap(), NOW);
        assert!(matches!(budget(&devices, "u1"), Budget::Device { .. }));
        assert_eq!(budget(&devices, "u2"), Budget::Unknown { user_id: "u2" });
    }

    #[test]
    fn a_browser_remembers_a_bounded_number_of_accounts() {
        let h = hasher(1);
        let mut value = String::new();
        for i in 0..8 {
            value = remember(&h, &parse(&h, &value, NOW), &format!("u{i}"), NOW).unwrap();
        }
        let devices = parse(&h, &value, NOW);
        assert_eq!(devices.len(), MAX_ENTRIES);
        assert_eq!(devices[0].user_id, "u7");
    }
}
