//! Prints Gatehouse's module graph as the architecture test reads it: each
//! top-level module with the modules it uses, the files that use the store
//! from `src/web/`, cycles, and files over 400 lines of code.
//! `cargo run --example modgraph [--files]` (`--files` names, for every
//! dependency, the files that make it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/architecture/sources.rs"]
mod sources;

use std::path::Path;

fn main() {
    let with_files = std::env::args().any(|a| a == "--files");
    let src = sources::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let g = sources::graph(&src);
    println!("module dependencies ({} files):", src.len());
    for (from, deps) in &g {
        println!("  {from:<10} -> {}", deps.keys().cloned().collect::<Vec<_>>().join(" "));
        if with_files {
            for (to, files) in deps {
                println!("      {to}: {}", files.iter().cloned().collect::<Vec<_>>().join(", "));
            }
        }
    }
    let cycles = sources::cycles(&g);
    println!("cycles: {}", if cycles.is_empty() { "none".to_owned() } else { format!("{cycles:?}") });
    let web: Vec<(String, usize)> = src
        .iter()
        .filter(|s| s.module == "web")
        .map(|s| (s.path.clone(), sources::store_uses(s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    println!("store uses from web/: {}", web.iter().map(|(_, n)| n).sum::<usize>());
    for (path, n) in web {
        println!("  {n:>3} {path}");
    }
    println!("files over 400 lines of code:");
    for s in src.iter().filter(|s| s.lines() > 400) {
        println!("  {:>4} {}", s.lines(), s.path);
    }
}
