//! Static assets compiled into the binary and served under content-hashed
//! names, so they can be cached forever and still change on upgrade.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;

const STYLESHEET: &[u8] = include_bytes!("../../static/gatehouse.css");
/// The WebAuthn ceremonies (the only script of the pages).
const SCRIPT: &[u8] = include_bytes!("../../static/webauthn.js");
const FAVICON: &[u8] = include_bytes!("../../static/favicon.svg");

fn hashed(stem: &str, ext: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("/static/{stem}.{short}.{ext}")
}

static STYLESHEET_PATH: LazyLock<String> = LazyLock::new(|| hashed("gatehouse", "css", STYLESHEET));
static SCRIPT_PATH: LazyLock<String> = LazyLock::new(|| hashed("webauthn", "js", SCRIPT));
static FAVICON_PATH: LazyLock<String> = LazyLock::new(|| hashed("favicon", "svg", FAVICON));

/// The URL path of the stylesheet, for templates.
pub fn stylesheet_path() -> &'static str {
    STYLESHEET_PATH.as_str()
}

/// The URL path of the WebAuthn script, for templates.
pub fn script_path() -> &'static str {
    SCRIPT_PATH.as_str()
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
