//! The tokens of the filter grammar, as nom parsers: attribute names,
//! operators, JSON string and number literals.

use super::CompareOp;
use nom::branch::alt;
use nom::bytes::complete::{tag_no_case, take_while, take_while1};
use nom::character::complete::{char, digit1, one_of};
use nom::combinator::{opt, recognize};
use nom::{IResult, Parser};

/// Integers stay integers; anything else is an f64, parsed by the standard
/// library (correctly rounded, so printing and re-parsing is exact).
pub(super) fn parse_number(lexeme: &str) -> Option<serde_json::Number> {
    if !lexeme.contains(['.', 'e', 'E']) {
        if let Ok(i) = lexeme.parse::<i64>() {
            return Some(i.into());
        }
        if let Ok(u) = lexeme.parse::<u64>() {
            return Some(u.into());
        }
    }
    lexeme.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$'
}

/// `ATTRNAME = ALPHA *(nameChar)`, plus `$ref` (RFC 7643 uses it).
pub(super) fn attr_name(i: &str) -> IResult<&str, &str> {
    alt((
        tag_no_case("$ref"),
        recognize((
            take_while1(|c: char| c.is_ascii_alphabetic()),
            take_while(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        )),
    ))
    .parse(i)
}

pub(super) fn compare_op(i: &str) -> IResult<&str, CompareOp> {
    let (rest, word) = take_while1(|c: char| c.is_ascii_alphabetic()).parse(i)?;
    let op = match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "lt" => CompareOp::Lt,
        "ge" => CompareOp::Ge,
        "le" => CompareOp::Le,
        _ => return Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Tag))),
    };
    Ok((rest, op))
}

/// A JSON string literal, quotes included; escapes are decoded by serde_json.
pub(super) fn string_literal(i: &str) -> IResult<&str, &str> {
    let bytes = i.as_bytes();
    let fail = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Char));
    if bytes.first() != Some(&b'"') {
        return Err(fail());
    }
    let mut k = 1;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' => k += 2,
            b'"' => return Ok((&i[k + 1..], &i[..=k])),
            _ => k += 1,
        }
    }
    Err(fail())
}

/// RFC 8259 number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub(super) fn number(i: &str) -> IResult<&str, &str> {
    recognize((
        opt(char('-')),
        alt((recognize(char('0')), recognize((one_of("123456789"), opt(digit1))))),
        opt((char('.'), digit1)),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(i)
}
