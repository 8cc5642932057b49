//! Differential test of the SCIM filter parser against Python's
//! scim2-filter-parser, over `tests/scim/filters.tsv`. Each row records
//! both parsers' verdicts; rows where they differ are the intended
//! disagreements explained at the top of the file. Our side is always
//! checked; the Python side when `GATEHOUSE_TEST_SCIM_PYTHON` names an
//! interpreter with the package installed (CI sets it).

use gatehouse::scim::filter::{Limits, parse_filter};
use std::collections::HashMap;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scim/filters.tsv");

fn corpus() -> Vec<(bool, bool, String)> {
    std::fs::read_to_string(CORPUS)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (ours, theirs, text) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            (ours == "Y", theirs == "Y", text.to_owned())
        })
        .collect()
}

#[test]
fn our_verdicts_match_the_corpus() {
    let rows = corpus();
    assert!(rows.len() >= 60);
    let wrong: Vec<_> = rows
        .iter()
        .filter(|(ours, _, text)| parse_filter(text, &Limits::default()).is_ok() != *ours)
        .map(|(ours, _, text)| format!("{text:?}: expected {}", if *ours { "accept" } else { "refuse" }))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_python_parser_agrees_except_where_documented() {
    let Some(python) = std::env::var("GATEHOUSE_TEST_SCIM_PYTHON").ok().filter(|p| !p.is_empty()) else { return };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scim/differential.py");
    let out = std::process::Command::new(python).args([script, CORPUS]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs: HashMap<String, bool> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["filter"].as_str().unwrap().to_owned(), v["accepted"].as_bool().unwrap())
        })
        .collect();
    let rows = corpus();
    assert_eq!(theirs.len(), rows.len());
    let wrong: Vec<_> = rows
        .iter()
        .filter(|(_, expected, text)| theirs[text] != *expected)
        .map(|(_, expected, text)| {
            format!("{text:?}: Python expected to {}", if *expected { "accept" } else { "refuse" })
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
