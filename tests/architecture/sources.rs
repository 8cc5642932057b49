//! Reads `src/` the way the architecture rules see it: each file's code
//! without comments, string contents or its trailing test module, and the
//! top-level modules it names through `crate::` paths. Shared by the
//! architecture test and `cargo run --example modgraph`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One source file: its path under `src/`, its top-level module and its
/// code (comments and string contents blanked, test module cut off).
pub struct Source {
    pub path: String,
    pub module: String,
    pub code: String,
}

impl Source {
    /// Lines of code, blank lines included, test module excluded.
    pub fn lines(&self) -> usize {
        self.code.lines().count()
    }
}

/// Every `.rs` file under `src/` except `lib.rs`, `main.rs` and test-only
/// files (`tests.rs`, or anything under a `tests/` directory).
pub fn read(src: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    walk(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        let name = rel.rsplit('/').next().unwrap_or("");
        if rel == "lib.rs" || rel == "main.rs" || name == "tests.rs" || rel.contains("/tests/") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let module = rel.split('/').next().unwrap_or("").trim_end_matches(".rs").to_owned();
        out.push(Source { path: rel, module, code: cut_tests(&blank(&text)) });
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Blanks comments and the contents of string and char literals, keeping
/// line breaks, so `"crate::x"` in a message or `// store::` in a comment
/// is not mistaken for a dependency.
pub fn blank(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_newlines = |s: &[u8], out: &mut String| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            keep_newlines(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(rest.len(), |e| e + 4);
            keep_newlines(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(b"r#\"") || rest.starts_with(b"r\"") || rest.starts_with(b"br#\"") {
            let start = rest.iter().position(|&c| c == b'"').unwrap_or(0);
            let hashes = rest[..start].iter().filter(|&&c| c == b'#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let end = text[i + start + 1..].find(&close).map_or(rest.len(), |e| start + 1 + e + close.len());
            out.push_str("\"\"");
            keep_newlines(&rest[2.min(end)..end], &mut out);
            i += end;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            out.push_str("\"\"");
            keep_newlines(&rest[2.min(end)..end], &mut out);
            i += end;
        } else if rest.starts_with(b"'\"'") || rest.starts_with(b"'\\''") || rest.starts_with(b"'\\\\'") {
            let n = if rest[1] == b'\\' { 4 } else { 3 };
            out.push_str(&" ".repeat(n));
            i += n;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Drops the file's `#[cfg(test)] mod name { ... }` (always last here)
/// and `#[cfg(test)] mod name;` declarations.
fn cut_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = rest[at + "#[cfg(test)]".len()..].trim_start();
        let line = after.split('\n').next().unwrap_or("");
        if after.starts_with("mod ") && line.contains('{') {
            out.push_str(&rest[..at]);
            return out;
        }
        if after.starts_with("mod ") && line.trim_end().ends_with(';') {
            out.push_str(rest[..at].trim_end_matches([' ', '\n']));
            out.push('\n');
            rest = after[line.len()..].trim_start_matches('\n');
        } else {
            out.push_str(&rest[..at + 1]);
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The identifiers that follow `prefix` in `code`: `prefix x` gives `x`,
/// and `prefix{a, b::c, d as e}` gives `a`, `b`, `d`.
pub fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut from = 0;
    while let Some(at) = code[from..].find(prefix) {
        let start = from + at;
        from = start + prefix.len();
        // `prefix` must start a path: not the tail of a longer identifier.
        if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut at_item = true;
            let mut chars = group.char_indices().peekable();
            while let Some((k, c)) = chars.next() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => at_item = true,
                    c if depth == 1 && at_item && (c.is_alphanumeric() || c == '_') => {
                        let ident: String =
                            group[k..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        for _ in 1..ident.chars().count() {
                            chars.next();
                        }
                        out.push(ident);
                        at_item = false;
                    }
                    _ => {}
                }
            }
        } else {
            let ident: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !ident.is_empty() {
                out.push(ident);
            }
        }
    }
    out
}

/// How many store items a file names, not counting the pool handle
/// (`store::Db`, `store::{self}`) that handlers pass to the domain.
pub fn store_uses(s: &Source) -> usize {
    paths_after(&s.code, "store::").into_iter().filter(|p| p != "Db" && p != "self").count()
}

/// Top-level module -> the other top-level modules it names, with the
/// files that name each.
pub fn graph(sources: &[Source]) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let modules: BTreeSet<&str> = sources.iter().map(|s| s.module.as_str()).collect();
    let mut g: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for s in sources {
        let deps = g.entry(s.module.clone()).or_default();
        for m in paths_after(&s.code, "crate::") {
            if m != s.module && modules.contains(m.as_str()) {
                deps.entry(m).or_default().insert(s.path.clone());
            }
        }
    }
    g
}

/// Strongly connected components with more than one module: the cycles.
pub fn cycles(g: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        g: &'a BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            for w in self.g.get(v).into_iter().flat_map(|d| d.keys()) {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let lw = self.low[w.as_str()];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.stack.contains(&w.as_str()) {
                    let iw = self.index[w.as_str()];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    comp.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), next: 0, out: Vec::new() };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}
