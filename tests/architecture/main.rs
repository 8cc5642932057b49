//! The layering rules of DESIGN.md ("Dependencies"), checked on the
//! sources: no cycle between top-level modules, every dependency pointing
//! down the layers, actix only where requests and actors live, the web
//! layer reaching the store through the domain, and files kept small.
//! `cargo run --example modgraph` prints the graph these tests read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sources;

use sources::{Source, cycles, graph, paths_after, store_uses};
use std::collections::BTreeMap;
use std::path::Path;

fn src() -> Vec<Source> {
    let s = sources::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(s.len() > 50, "found only {} source files", s.len());
    s
}

/// Each top-level module's layer; a module may use its own layer and the
/// ones below (cycles inside a layer are caught separately).
const LAYERS: &[(&str, u8)] = &[
    // Below everything: no Gatehouse types, no I/O of their own.
    ("wire", 0),
    ("clock", 0),
    ("net", 0),
    ("crypto", 0),
    ("audit", 0),
    // Queries and rows.
    ("store", 1),
    // The domain: protocol and account logic, no HTTP types.
    ("keys", 2),
    ("accounts", 2),
    ("mfa", 2),
    ("oidc", 2),
    ("oauth", 2),
    ("scim", 2),
    ("abuse", 2),
    // The actor core, over the domain.
    ("actors", 3),
    // Settings name the domain's policy types; telemetry reads settings.
    ("config", 4),
    ("telemetry", 4),
    // HTTP.
    ("web", 5),
    // Wiring.
    ("server", 6),
    ("cli", 6),
];

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, l)| *l)
        .unwrap_or_else(|| panic!("top-level module `{module}` has no layer in tests/architecture/main.rs"))
}

#[test]
fn top_level_modules_form_no_cycle() {
    let g = graph(&src());
    let found = cycles(&g);
    assert!(found.is_empty(), "import cycles between top-level modules: {found:?}");
}

#[test]
fn dependencies_point_down_the_layers() {
    let mut wrong = Vec::new();
    for (from, deps) in graph(&src()) {
        for (to, files) in deps {
            if layer(&to) > layer(&from) {
                wrong.push(format!("{from} -> {to} (in {})", files.into_iter().collect::<Vec<_>>().join(", ")));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies pointing up the layers:\n{}", wrong.join("\n"));
}

#[test]
fn actix_stays_in_the_web_and_actor_layers() {
    let mut wrong = Vec::new();
    for s in src() {
        let web = paths_after(&s.code, "actix_web::").len() + s.code.matches("use actix_web").count();
        let actors = paths_after(&s.code, "actix::").len() + s.code.matches("use actix;").count();
        if web > 0 && !matches!(s.module.as_str(), "web" | "server") {
            wrong.push(format!("{}: actix-web outside web/ and server.rs", s.path));
        }
        if actors > 0 && !matches!(s.module.as_str(), "actors" | "web" | "server") {
            wrong.push(format!("{}: actix actors outside actors/, web/ and server.rs", s.path));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Where a handler names the store itself, why, and how often. The pool
/// handle (`store::Db`, and `store::{self}`) is not counted: handlers pass
/// the pool to the domain. This list only shrinks: a new entry, or a
/// higher count, fails.
const WEB_STORE_ALLOWED: &[(&str, usize)] = &[
    // The admin audit API pages the log as stored: no domain rule sits
    // between the query and the rows.
    ("web/admin_audit.rs", 1),
    // The database health flag every handler reads to fail fast.
    ("web/mod.rs", 1),
    // The connection pool's occupancy, read at scrape time: plumbing, not
    // a domain question.
    ("web/metrics.rs", 1),
];

#[test]
fn the_web_layer_reaches_the_store_through_the_domain() {
    let allowed: BTreeMap<&str, usize> = WEB_STORE_ALLOWED.iter().copied().collect();
    let sources = src();
    let mut wrong = Vec::new();
    for s in sources.iter().filter(|s| s.module == "web") {
        let n = store_uses(s);
        let limit = allowed.get(s.path.as_str()).copied().unwrap_or(0);
        if n > limit {
            wrong.push(format!("{}: {n} store uses (allowed {limit}); go through the domain", s.path));
        } else if n < limit {
            wrong.push(format!("{}: {n} store uses, fewer than the {limit} allowed: lower the allowance", s.path));
        }
    }
    for (path, _) in WEB_STORE_ALLOWED {
        if !sources.iter().any(|s| s.path == *path) {
            wrong.push(format!("{path} is allowed store uses but does not exist: remove it"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

const MAX_LINES: usize = 400;

/// Files allowed over the limit, with their size (none today); it only shrinks.
const LONG_FILES: &[(&str, usize)] = &[];

#[test]
fn source_files_stay_under_400_lines_of_code() {
    let allowed: BTreeMap<&str, usize> = LONG_FILES.iter().copied().collect();
    let mut wrong = Vec::new();
    for s in src() {
        let limit = allowed.get(s.path.as_str()).copied().unwrap_or(MAX_LINES);
        if s.lines() > limit {
            wrong.push(format!("{}: {} lines of code (limit {limit}); split it along a seam", s.path, s.lines()));
        } else if limit > MAX_LINES && s.lines() < limit {
            wrong.push(format!("{}: {} lines, under its allowance of {limit}: lower it", s.path, s.lines()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_reader_sees_code_not_comments_or_strings() {
    let code = sources::blank(
        "use crate::a::b; // crate::c\nlet s = \"crate::d\"; let r = r#\"crate::e\"#;\n/* crate::f */ let q = '\"'; crate::g::h();",
    );
    assert_eq!(paths_after(&code, "crate::"), ["a", "g"]);
    assert_eq!(code.lines().count(), 3);
    let grouped = "use crate::{a::{b, c}, d as e, f};\nuse crate::store::{self, Db, users};";
    assert_eq!(paths_after(grouped, "crate::"), ["a", "d", "f", "store"]);
    assert_eq!(paths_after(grouped, "store::"), ["self", "Db", "users"]);
    assert_eq!(paths_after("mystore::x; store::y", "store::"), ["y"]);
}
