//! TOTP (RFC 6238 over RFC 4226 HOTP) with the parameters every
//! authenticator app understands: HMAC-SHA-1, 6 digits, 30-second steps,
//! 160-bit seeds. A code is accepted one step either side of now, and the
//! caller stores the step it matched so that no code works twice.

use aws_lc_rs::hmac;
use zeroize::Zeroizing;

pub const DIGITS: u32 = 6;
pub const PERIOD_SECS: i64 = 30;
/// RFC 4226 §4 asks for at least 128 bits and recommends 160.
pub const SECRET_BYTES: usize = 20;
/// Steps accepted either side of the current one (clock skew).
pub const SKEW_STEPS: i64 = 1;

/// A TOTP seed; zeroed on drop.
pub struct Secret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Secret {
    pub fn generate() -> Result<Self, crate::crypto::RandomError> {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_BYTES]);
        crate::crypto::fill_random(&mut bytes)?;
        Ok(Self(bytes))
    }

    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The seed as authenticator apps take it: RFC 4648 base32, unpadded.
    pub fn base32(&self) -> Zeroizing<String> {
        Zeroizing::new(base32(&self.0))
    }
}

/// RFC 4226 HOTP with HMAC-SHA-1 and dynamic truncation.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    binary % 10u32.pow(digits)
}

/// The time step a Unix time falls in.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(PERIOD_SECS)
}

/// The code for a step, zero-padded.
pub fn code_for_step(secret: &Secret, step: i64) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    format!("{:0width$}", hotp(secret.as_bytes(), counter, DIGITS), width = DIGITS as usize)
}

/// The step within `SKEW_STEPS` of `unix_secs` whose code `input` is, if
/// any. Spaces are ignored (apps show "123 456"); anything but six digits
/// matches nothing. Every candidate is compared in constant time.
pub fn matching_step(secret: &Secret, input: &str, unix_secs: i64) -> Option<i64> {
    let code: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let mut found = None;
    for step in (now - SKEW_STEPS)..=(now + SKEW_STEPS) {
        if step >= 0 && crate::crypto::constant_time_eq(code_for_step(secret, step).as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI of the Key Uri Format that authenticator apps scan.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &Secret) -> Zeroizing<String> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    Zeroizing::new(format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={PERIOD_SECS}",
        enc(issuer),
        enc(account),
        secret.base32().as_str(),
        enc(issuer)
    ))
}

/// The URI as an inline SVG QR code (no XML prologue), rendered here so
/// that the seed never leaves the server for a third-party renderer.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000"))
        .light_color(qrcode::render::svg::Color("#fff"))
        .build();
    svg.find("<svg").map(|at| svg[at..].to_owned())
}

/// RFC 4648 base32 without padding.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests;
