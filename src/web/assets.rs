//! Static assets compiled into the binary and served under content-hashed
//! names, so they can be cached forever and still change on upgrade.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;

const STYLESHEET: &[u8] = include_bytes!("../../static/gatehouse.css");

static STYLESHEET_PATH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(STYLESHEET);
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("/static/gatehouse.{short}.css")
});

/// The URL path of the stylesheet, for templates.
pub fn stylesheet_path() -> &'static str {
    STYLESHEET_PATH.as_str()
}

/// `GET /static/{name}`: only the current hashed names exist.
pub async fn get_asset(name: web::Path<String>) -> HttpResponse {
    if format!("/static/{name}") == stylesheet_path() {
        HttpResponse::Ok()
            .content_type("text/css; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(STYLESHEET)
    } else {
        HttpResponse::NotFound().finish()
    }
}
