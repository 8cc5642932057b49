//! What people are called: usernames under RFC 8265 (PRECIS), the key that
//! every sign-in name is compared by, and the rule that names shown to
//! others carry no invisible or direction-changing characters.
//!
//! One key for every sign-in name (a username or a login email), so that
//! uniqueness, sign-in and SCIM filters agree, and a username can never
//! equal another account's email under a different spelling.

use precis_core::profile::PrecisFastInvocation as _;
use precis_profiles::{UsernameCaseMapped, UsernameCasePreserved};

/// A username as given (width-mapped, NFC, case preserved) and its key
/// (case-mapped). RFC 8265 userparts may not contain spaces; like most
/// directories we allow single spaces between userparts (§3.5 leaves that
/// to the application), each part enforced on its own.
pub fn username(raw: &str) -> Result<(String, String), &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("must not be empty");
    }
    if s.chars().count() > 256 {
        return Err("at most 256 characters");
    }
    let (mut display, mut key) = (String::with_capacity(s.len()), String::with_capacity(s.len()));
    for part in s.split(' ').filter(|p| !p.is_empty()) {
        let shown = UsernameCasePreserved::enforce(part).map_err(|_| REFUSED)?;
        let folded = UsernameCaseMapped::enforce(part).map_err(|_| REFUSED)?;
        if !display.is_empty() {
            display.push(' ');
            key.push(' ');
        }
        display.push_str(&shown);
        key.push_str(&folded);
    }
    Ok((display, key))
}

const REFUSED: &str = "may contain only letters, digits and visible punctuation (RFC 8265), no invisible or \
                       direction-changing characters";

/// The key a login email signs in by, if it can be one: the whole address
/// under the same case-mapped profile as usernames (so `Dana@Corp.Example`
/// and the username `dana@corp.example` are one name). An address the
/// profile refuses is kept on the account but is not a sign-in name.
pub fn email_key(email: &str) -> Option<String> {
    UsernameCaseMapped::enforce(email.trim()).ok().map(|k| k.into_owned())
}

/// The key of what someone typed into the sign-in form.
pub fn login_key(input: &str) -> Option<String> {
    username(input).ok().map(|(_, key)| key)
}

/// Refuses characters that make a name look like something it is not:
/// bidirectional controls (U+202E turns `nimda` into `admin` on screen) and
/// default-ignorable code points (U+200B, U+00AD, U+FEFF: invisible, so
/// two names that look alike differ). Zero-width (non-)joiners and
/// variation selectors are kept: scripts such as Persian and Devanagari,
/// and emoji, need them, and they cannot reorder or hide text.
pub fn check_visible(s: &str) -> Result<(), &'static str> {
    if s.chars().any(is_invisible) {
        return Err("must not contain invisible or direction-changing characters");
    }
    Ok(())
}

/// Bidi_Control, and Default_Ignorable_Code_Point (Unicode 16
/// DerivedCoreProperties) without ZWNJ/ZWJ and the variation selectors.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B | 0x200E..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE00FF | 0xE01F0..=0xE0FFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_width_mapped_case_folded_and_nfc() {
        assert_eq!(username("  Dana@Corp.Example ").unwrap(), ("Dana@Corp.Example".into(), "dana@corp.example".into()));
        // Fullwidth letters map to their ASCII forms (RFC 8265 §3.3.1).
        assert_eq!(username("ＤＡＮＡ").unwrap(), ("DANA".into(), "dana".into()));
        // Decomposed é (e + U+0301) composes: one key for both spellings.
        assert_eq!(username("Ren\u{0065}\u{0301}").unwrap().1, username("Ren\u{00E9}").unwrap().1);
        assert_eq!(username("Ada  Lovelace").unwrap(), ("Ada Lovelace".into(), "ada lovelace".into()));
        assert_eq!(login_key("DANA@corp.example"), email_key("dana@CORP.example"));
    }

    /// The migration that backfilled sign-in names computed keys on its own
    /// (migrations cannot depend on the application); they must agree.
    #[test]
    fn the_backfill_computes_the_same_keys() {
        use migration::m20261202_000018_login_names::login_name_key;
        for s in ["Dana@Corp.Example", "ＤＡＮＡ", "Ada  Lovelace", "Ren\u{0065}\u{0301}", "bob", "\u{202E}x"] {
            assert_eq!(login_name_key(s), login_key(s), "{s:?}");
        }
    }

    #[test]
    fn invisible_and_bidi_characters_are_refused_in_usernames() {
        for bad in ["\u{202E}admin", "ad\u{200B}min", "ad\u{00AD}min", "\u{FEFF}admin", "adm\u{2066}in", "a\u{7}b", ""]
        {
            assert!(username(bad).is_err(), "{bad:?}");
        }
        assert!(username(&"a".repeat(257)).is_err());
    }

    #[test]
    fn names_shown_to_others_refuse_invisible_characters_only() {
        for bad in
            ["\u{202E}nimda", "A\u{200B}B", "soft\u{00AD}hyphen", "\u{FEFF}x", "x\u{2069}", "\u{061C}", "\u{E0041}"]
        {
            assert!(check_visible(bad).is_err(), "{bad:?}");
        }
        // Persian with ZWNJ, an emoji ZWJ sequence with a variation selector,
        // right-to-left script without controls.
        for good in ["Ada Lovelace", "می\u{200C}خواهم", "👩\u{200D}💻", "❤\u{FE0F}", "שלום", "Zoë"] {
            assert!(check_visible(good).is_ok(), "{good:?}");
        }
    }
}
