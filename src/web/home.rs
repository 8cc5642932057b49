//! `GET /`: a landing page pointing to sign-in and the account page, for
//! people who type the address in. It reads nothing from the database, so
//! it answers even while the database does not.

use super::AppState;
use super::authorize::stylesheet;
use super::browser::{self, html, page_csp};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    stylesheet: &'a str,
    host: &'a str,
}

pub async fn get_home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let issuer = url::Url::parse(&state.settings.issuer).ok();
    let host = issuer.as_ref().and_then(|u| u.host_str()).unwrap_or("Gatehouse");
    match (HomePage { stylesheet: stylesheet(), host }).render() {
        Ok(body) => html(HttpResponse::Ok(), &page_csp(&[], None), body),
        Err(_) => browser::server_error_page(&req),
    }
}
