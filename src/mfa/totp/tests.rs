use super::*;

/// RFC 6238 Appendix B: the SHA-1 seed and its 8-digit codes.
#[test]
fn rfc6238_sha1_test_vectors() {
    let seed = b"12345678901234567890";
    for (time, expected) in [
        (59_i64, 94_287_082_u32),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ] {
        let counter = u64::try_from(step_of(time)).unwrap();
        assert_eq!(hotp(seed, counter, 8), expected, "T = {time}");
    }
}

/// RFC 4226 Appendix D: six-digit HOTP for counters 0..9.
#[test]
fn rfc4226_hotp_test_vectors() {
    let seed = b"12345678901234567890";
    let expected = [755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871, 520_489];
    for (counter, want) in expected.into_iter().enumerate() {
        assert_eq!(hotp(seed, counter as u64, 6), want, "counter {counter}");
    }
}

/// RFC 4648 §10.
#[test]
fn base32_test_vectors() {
    for (input, want) in [
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ] {
        assert_eq!(base32(input.as_bytes()), want);
    }
}

/// An independent implementation (totp-rs) reads our otpauth URI and
/// agrees with every code we compute, for random seeds and times.
#[test]
fn agrees_with_totp_rs_through_the_otpauth_uri() {
    for i in 0..50_i64 {
        let secret = Secret::generate().unwrap();
        let uri = otpauth_uri("Gatehouse Dev", &format!("alice{i}@example.com"), &secret);
        let other = totp_rs::Totp::from_url(uri.as_str()).unwrap();
        assert_eq!(other.secret().as_bytes(), secret.as_bytes());
        assert_eq!((other.digits(), other.step()), (6, 30));
        let time = 1_700_000_000 + i * 7_919;
        assert_eq!(other.generate(time as u64).to_string(), code_for_step(&secret, step_of(time)));
    }
}

#[test]
fn accepts_one_step_either_side_and_no_further() {
    let secret = Secret::from_bytes(Zeroizing::new(b"12345678901234567890".to_vec()));
    let now = 1_111_111_111;
    let step = step_of(now);
    for delta in -1..=1 {
        let code = code_for_step(&secret, step + delta);
        assert_eq!(matching_step(&secret, &code, now), Some(step + delta));
    }
    for delta in [-3, -2, 2, 3] {
        let code = code_for_step(&secret, step + delta);
        assert_eq!(matching_step(&secret, &code, now), None, "delta {delta}");
    }
}

#[test]
fn malformed_codes_match_nothing() {
    let secret = Secret::from_bytes(Zeroizing::new(b"12345678901234567890".to_vec()));
    let now = 59;
    let good = code_for_step(&secret, step_of(now));
    let spaced = format!("{} {}", &good[..3], &good[3..]);
    assert!(matching_step(&secret, &spaced, now).is_some());
    for bad in ["", "12345", "1234567", "abcdef", "１２３４５６", &format!("+{}", &good[1..]), &format!("{good}0")]
    {
        assert_eq!(matching_step(&secret, bad, now), None, "{bad:?}");
    }
}

#[test]
fn the_qr_code_is_an_inline_svg_without_script() {
    let secret = Secret::generate().unwrap();
    let svg = qr_svg(otpauth_uri("Gatehouse", "alice", &secret).as_str()).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    assert!(svg.ends_with("</svg>"));
    assert!(!svg.contains("<script") && !svg.contains("style="));
}
