//! The password policy of NIST SP 800-63B §5.1.1.2: length bounds, no
//! composition rules, and refusal of passwords that are common (a bundled
//! list of the 30 000 most used, also with digits or symbols stuck on),
//! repetitive or sequential, or built from the account's own name or email.
//! Every problem is reported at once, as `{code, message}`, so a page or an
//! API can show them all. Reuse of recent passwords needs the stored
//! history and is checked by `accounts::users::set_password`.

use std::sync::LazyLock;

/// Longest password input read at all; the policy's (configurable)
/// maximum is at most this.
pub const MAX_PASSWORD_INPUT_BYTES: usize = 4096;

/// The bundled list: lower-case, sorted, one per line (see
/// `common_passwords.LICENSE` for its origin).
static COMMON: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().filter(|l| !l.is_empty()).collect());

/// One reason a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    pub max_bytes: usize,
    /// How many previous passwords may not be used again (0: no check).
    pub history: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_chars: 12, max_bytes: 1024, history: 5 }
    }
}

impl PasswordPolicy {
    /// Everything that needs no stored state. `identity` holds the
    /// username and email of the account (either may be empty).
    pub fn check(&self, password: &str, identity: &[&str]) -> Vec<Problem> {
        let mut problems = Vec::new();
        if password.len() > self.max_bytes {
            // Longer inputs are not examined further: bounding work is the point.
            problems.push(Problem::new("too_long", format!("must be at most {} bytes", self.max_bytes)));
            return problems;
        }
        if password.chars().count() < self.min_chars {
            problems.push(Problem::new("too_short", format!("must be at least {} characters", self.min_chars)));
        }
        let lower = password.to_lowercase();
        if is_common(&lower) {
            problems.push(Problem::new(
                "common",
                "is one of the most commonly used passwords (or one with digits or symbols added)",
            ));
        }
        if is_pattern(&lower) {
            problems.push(Problem::new("repetitive", "is a repeated or sequential pattern"));
        }
        for part in identity.iter().flat_map(|i| identity_parts(i)) {
            if lower.contains(&part) {
                problems.push(Problem::new("contains_user_info", "contains the username or email address"));
                break;
            }
        }
        problems
    }
}

fn in_list(word: &str) -> bool {
    COMMON.binary_search(&word).is_ok()
}

/// The word itself, or the word once digits and symbols around it are
/// removed (`Password123!`, `!!dragon2024`).
fn is_common(lower: &str) -> bool {
    if in_list(lower) {
        return true;
    }
    let core = lower.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    core.chars().count() >= 4 && core != lower && in_list(core)
}

/// One short unit repeated (`aaaaaaaaaaaa`, `abcabcabcabc`) or a run of
/// consecutive characters up or down (`abcdefghijkl`, `987654321098`
/// is not: it wraps).
fn is_pattern(lower: &str) -> bool {
    let chars: Vec<char> = lower.chars().collect();
    if chars.len() < 2 {
        return false;
    }
    let repeated = (1..=4.min(chars.len() / 2))
        .any(|unit| chars.len().is_multiple_of(unit) && chars.chunks(unit).all(|c| c == &chars[..unit]));
    let step = |d: i64| chars.windows(2).all(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0])) == d);
    repeated || step(1) || step(-1)
}

/// The username, and an email's local part, when long enough to matter.
fn identity_parts(identity: &str) -> Vec<String> {
    let lower = identity.trim().to_lowercase();
    let mut parts = Vec::new();
    if let Some((local, _)) = lower.split_once('@') {
        parts.push(local.to_owned());
    }
    parts.push(lower);
    parts.retain(|p| p.chars().count() >= 3);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(p: &str, identity: &[&str]) -> Vec<&'static str> {
        PasswordPolicy::default().check(p, identity).into_iter().map(|p| p.code).collect()
    }

    #[test]
    fn the_bundled_list_is_sorted_and_loaded() {
        assert_eq!(COMMON.len(), 30_000);
        assert!(COMMON.windows(2).all(|w| w[0] < w[1]), "sorted and unique, or binary search lies");
        assert!(in_list("password") && in_list("qwerty123456") && !in_list("correct horse battery staple"));
    }

    #[test]
    fn good_passwords_pass() {
        for p in
            ["correct horse battery staple", "Tr0ub4dour&3-extended", "zq8#Lm2!vW9@kR", "黑猫在明亮的月光下跳舞了吧"]
        {
            assert_eq!(codes(p, &["alice", "alice@example.com"]), Vec::<&str>::new(), "{p}");
        }
    }

    #[test]
    fn each_rule_reports_its_own_problem() {
        assert_eq!(codes("short", &[]), ["too_short"]);
        assert_eq!(codes(&"x".repeat(1025), &[]), ["too_long"]);
        assert_eq!(codes("qwerty123456", &[]), ["common"]);
        assert_eq!(codes("Password1234!", &[]), ["common"], "a common word with digits and symbols added");
        assert_eq!(codes("!!Dragon2024!!", &[]), ["common"]);
        assert_eq!(
            codes("aaaaaaaaaaaaaa", &[]),
            ["common", "repetitive"]
                .iter()
                .filter(|c| **c != "common" || in_list("aaaaaaaaaaaaaa"))
                .copied()
                .collect::<Vec<_>>()
        );
        assert_eq!(codes("xyzxyzxyzxyz", &[]), ["repetitive"]);
        assert_eq!(codes("abcdefghijklm", &[]), ["repetitive"]);
        assert_eq!(codes("zyxwvutsrqpon", &[]), ["repetitive"]);
        assert_eq!(codes("my name is alice, ok?", &["Alice"]), ["contains_user_info"]);
        assert_eq!(codes("bobby.tables likes sql", &["x", "bobby.tables@example.com"]), ["contains_user_info"]);
        // Every problem at once.
        assert_eq!(codes("alice1", &["alice"]), ["too_short", "common", "contains_user_info"]);
        // Short identities are not matched inside passwords.
        assert!(codes("jo and the long password", &["jo"]).is_empty());
    }
}
