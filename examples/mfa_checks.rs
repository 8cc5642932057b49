//! Cost of the second-factor checks without the database: a TOTP answer
//! (open the sealed seed, three HMAC-SHA-1 for the ±1 step window) and a
//! recovery code (normalise, keyed hash). Prints checks/s and µs/check.
//! `cargo run --release --example mfa_checks [seconds]`

use gatehouse::crypto::envelope::Envelope;
use gatehouse::crypto::{MasterKey, SecretHasher};
use gatehouse::mfa::{recovery, totp};
use std::time::{Duration, Instant};

fn measure(name: &str, secs: u64, mut f: impl FnMut()) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        for _ in 0..1000 {
            f();
        }
        n += 1000;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!("{name:<40} {:>12.0} /s {:>8.2} µs", n as f64 / elapsed, elapsed * 1e6 / n as f64);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    // A fixed, public key: this measures, it protects nothing.
    let master = MasterKey::decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
    let envelope = Envelope::new(&master)?;
    let hasher = SecretHasher::new(&master);
    let secret = totp::Secret::generate()?;
    let sealed = envelope.seal("totp:user", secret.as_bytes())?;
    let now = 1_700_000_000;
    let wrong = "000000";
    measure("TOTP check (3 steps), seed in memory", secs, || {
        std::hint::black_box(totp::matching_step(&secret, wrong, now));
    });
    measure("TOTP check, seed opened from the envelope", secs, || {
        if let Ok(bytes) = envelope.open("totp:user", &sealed) {
            let s = totp::Secret::from_bytes(bytes);
            std::hint::black_box(totp::matching_step(&s, wrong, now));
        }
    });
    let codes = recovery::generate()?;
    measure("recovery code normalise + keyed hash", secs, || {
        if let Some(n) = recovery::normalize(&codes[0]) {
            std::hint::black_box(hasher.hash(&recovery::hash_input("user", &n)));
        }
    });
    Ok(())
}
