//! One-time recovery codes: ten per set, 50 random bits each, shown once
//! and stored only as keyed hashes. They are a last resort when the other
//! factors are lost, so they are long enough to survive the login rate
//! limit and lockout (2^50 guesses), and short enough to type.

use zeroize::Zeroizing;

pub const COUNT: usize = 10;
/// Characters per code (two groups of five).
const LEN: usize = 10;
/// Crockford's base32: no I, L, O or U to misread.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new set of codes, formatted `xxxxx-xxxxx`.
pub fn generate() -> Result<Vec<Zeroizing<String>>, crate::crypto::RandomError> {
    (0..COUNT)
        .map(|_| {
            let mut raw = Zeroizing::new([0u8; LEN]);
            crate::crypto::fill_random(raw.as_mut())?;
            let chars: Zeroizing<String> =
                Zeroizing::new(raw.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect());
            Ok(Zeroizing::new(format!("{}-{}", &chars[..5], &chars[5..])))
        })
        .collect()
}

/// The canonical form of what someone typed: case, spaces and dashes do
/// not matter, and the letters Crockford's alphabet leaves out read as the
/// digits they resemble. `None` if it cannot be a code.
pub fn normalize(input: &str) -> Option<Zeroizing<String>> {
    if input.len() > 64 {
        return None;
    }
    let mut out = Zeroizing::new(String::with_capacity(LEN));
    for c in input.chars().filter(|c| !c.is_whitespace() && *c != '-') {
        let c = match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == LEN).then_some(out)
}

/// What is hashed for storage: the user id binds a code to its owner.
pub fn hash_input(user_id: &str, normalized: &str) -> Zeroizing<String> {
    Zeroizing::new(format!("recovery-code|{user_id}|{normalized}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_set_is_ten_distinct_well_formed_codes() {
        let codes = generate().unwrap();
        assert_eq!(codes.len(), COUNT);
        let distinct: HashSet<&str> = codes.iter().map(|c| c.as_str()).collect();
        assert_eq!(distinct.len(), COUNT);
        for c in &codes {
            assert_eq!(c.len(), 11);
            assert_eq!(&c[5..6], "-");
            assert_eq!(normalize(c).unwrap().as_str(), c.replace('-', ""));
        }
    }

    #[test]
    fn typing_variations_normalize_to_the_same_code() {
        let want = "0123456789";
        for typed in ["01234-56789", "o1234 56789", "O1234-56789", " 0I234-56789 ", "0l23456789"] {
            assert_eq!(normalize(typed).unwrap().as_str(), want, "{typed:?}");
        }
        assert_eq!(normalize("ABCDE-FGHJK").unwrap().as_str(), "abcdefghjk");
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["", "01234", "01234-567890", "01234-5678u", "0123456789é", &"0".repeat(100), "01234_56789"] {
            assert!(normalize(bad).is_none(), "{bad:?}");
        }
    }
}
