//! Static assets compiled into the binary and served under content-hashed
//! names, so they can be cached forever and still change on upgrade.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;

const STYLESHEET: &[u8] = include_bytes!("../../static/gatehouse.css");
/// The WebAuthn ceremonies.
const SCRIPT: &[u8] = include_bytes!("../../static/webauthn.js");
/// The admin console's live audit tail.
const AUDIT_SCRIPT: &[u8] = include_bytes!("../../static/audit_live.js");
const FAVICON: &[u8] = include_bytes!("../../static/favicon.svg");

fn hashed(stem: &str, ext: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("/static/{stem}.{short}.{ext}")
}

static STYLESHEET_PATH: LazyLock<String> = LazyLock::new(|| hashed("gatehouse", "css", STYLESHEET));
static SCRIPT_PATH: LazyLock<String> = LazyLock::new(|| hashed("webauthn", "js", SCRIPT));
static AUDIT_SCRIPT_PATH: LazyLock<String> = LazyLock::new(|| hashed("audit_live", "js", AUDIT_SCRIPT));
static FAVICON_PATH: LazyLock<String> = LazyLock::new(|| hashed("favicon", "svg", FAVICON));

/// The URL path of the stylesheet, for templates.
pub fn stylesheet_path() -> &'static str {
    STYLESHEET_PATH.as_str()
}

/// The URL path of the WebAuthn script, for templates.
pub fn script_path() -> &'static str {
    SCRIPT_PATH.as_str()
}

/// The URL path of the live audit tail's script.
pub fn audit_script_path() -> &'static str {
    AUDIT_SCRIPT_PATH.as_str()
}

/// The URL path of the icon every page links.
pub fn favicon_path() -> &'static str {
    FAVICON_PATH.as_str()
}

/// `GET /static/{name}`: only the current hashed names exist.
pub async fn get_asset(name: web::Path<String>) -> HttpResponse {
    let path = format!("/static/{name}");
    let (content_type, body) = if path == stylesheet_path() {
        ("text/css; charset=utf-8", STYLESHEET)
    } else if path == script_path() {
        ("text/javascript; charset=utf-8", SCRIPT)
    } else if path == audit_script_path() {
        ("text/javascript; charset=utf-8", AUDIT_SCRIPT)
    } else if path == favicon_path() {
        ("image/svg+xml", FAVICON)
    } else {
        return HttpResponse::NotFound().finish();
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::STYLESHEET;

    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// `--name: #rrggbb;` in a block of the stylesheet.
    fn var(block: &str, name: &str) -> Option<String> {
        let at = block.find(&format!("--{name}:"))?;
        let value = block[at..].split(':').nth(1)?.split(';').next()?.trim();
        Some(value.to_owned())
    }

    /// WCAG 1.4.11: what shows where a control is needs 3:1 against what
    /// surrounds it, in the light and the dark scheme.
    #[test]
    fn control_borders_reach_three_to_one_in_both_schemes() {
        let css = std::str::from_utf8(STYLESHEET).unwrap();
        let light = &css[css.find(":root").unwrap()..css.find("@media (prefers-color-scheme: dark)").unwrap()];
        let dark = &css[css.find("@media (prefers-color-scheme: dark)").unwrap()..];
        for (scheme, block) in [("light", light), ("dark", dark)] {
            let get = |name: &str| var(block, name).or_else(|| var(light, name)).unwrap();
            let border = get("control-border");
            for surface in ["card", "bg"] {
                let ratio = contrast(&border, &get(surface));
                assert!(ratio >= 3.0, "{scheme}: control border {border} on --{surface} is {ratio:.2}:1");
            }
            assert!(contrast(&get("text"), &get("card")) >= 4.5, "{scheme}: body text");
        }
        assert!(css.contains("border: 1px solid var(--control-border)"), "inputs use it");
        assert!(css.contains(
            "button.secondary { color: var(--text); background: transparent; border-color: var(--control-border); }"
        ));
    }
}
