//! The SCIM filter language (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2):
//! nom for the tokens, recursive descent for the structure, with the RFC's
//! precedence (`not` over `and` over `or`, left-associative). Input is
//! bounded in length, nesting depth and number of comparisons before any
//! work grows with it; every error names the byte offset it stopped at.
//! Keywords, operators and literals are case-insensitive (ABNF strings are);
//! attribute names keep their case here and are matched case-insensitively
//! by the consumers.

use nom::IResult;

/// Limits on what is parsed; the defaults suit every filter seen from
/// real provisioning clients with a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_len: usize,
    pub max_depth: usize,
    pub max_terms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_len: 4096, max_depth: 32, max_terms: 64 }
    }
}

/// `[urn ":"] name ["." sub]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// A schema URN prefix, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Lt,
    Ge,
    Le,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Lt => "lt",
            CompareOp::Ge => "ge",
            CompareOp::Le => "le",
        }
    }
}

/// `compValue`: a JSON literal. Dates are strings; the attribute's type
/// decides how a string compares.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

/// The filter AST.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: some value of the multi-valued `attr` matches.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// A PATCH operation's `path`: `attrPath`, or `valuePath [subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after `]`, as in `emails[type eq "work"].value`.
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct FilterError {
    /// Byte offset into the input.
    pub position: usize,
    pub message: String,
}

/// Parses a filter.
pub fn parse_filter(input: &str, limits: &Limits) -> Result<Filter, FilterError> {
    let mut p = Parser_::new(input, limits)?;
    let f = p.or_expr(0)?;
    p.skip_ws();
    p.expect_end()?;
    Ok(f)
}

/// Parses a PATCH path.
pub fn parse_patch_path(input: &str, limits: &Limits) -> Result<PatchPath, FilterError> {
    let mut p = Parser_::new(input, limits)?;
    p.skip_ws();
    let attr = p.attr_path()?;
    let mut filter = None;
    let mut sub = None;
    if p.peek() == Some('[') {
        p.bump(1);
        p.skip_ws();
        p.in_value_path = true;
        filter = Some(p.or_expr(1)?);
        p.skip_ws();
        p.expect_char(']')?;
        if p.peek() == Some('.') {
            p.bump(1);
            sub = Some(p.attr_name()?);
        }
    }
    p.skip_ws();
    p.expect_end()?;
    Ok(PatchPath { attr, filter, sub })
}

/// Parses a lone attribute path (`attributes=` lists, PATCH value keys).
pub fn parse_attr_path(input: &str) -> Result<AttrPath, FilterError> {
    let mut p = Parser_::new(input, &Limits::default())?;
    p.skip_ws();
    let a = p.attr_path()?;
    p.skip_ws();
    p.expect_end()?;
    Ok(a)
}

struct Parser_<'a> {
    input: &'a str,
    rest: &'a str,
    limits: Limits,
    terms: usize,
    /// Inside `attr[...]`, where the grammar (valFilter) has no value paths.
    in_value_path: bool,
}

type Res<T> = Result<T, FilterError>;

impl<'a> Parser_<'a> {
    fn new(input: &'a str, limits: &Limits) -> Res<Self> {
        if input.len() > limits.max_len {
            return Err(FilterError { position: limits.max_len, message: format!("longer than {}", limits.max_len) });
        }
        Ok(Self { input, rest: input, limits: *limits, terms: 0, in_value_path: false })
    }

    fn pos(&self) -> usize {
        self.input.len() - self.rest.len()
    }

    fn err<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(FilterError { position: self.pos(), message: message.into() })
    }

    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self, n: usize) {
        self.rest = &self.rest[n..];
    }

    fn skip_ws(&mut self) -> usize {
        let trimmed = self.rest.trim_start_matches([' ', '\t']);
        let n = self.rest.len() - trimmed.len();
        self.rest = trimmed;
        n
    }

    fn expect_char(&mut self, c: char) -> Res<()> {
        if self.peek() == Some(c) {
            self.bump(c.len_utf8());
            Ok(())
        } else {
            self.err(format!("expected `{c}`"))
        }
    }

    fn expect_end(&self) -> Res<()> {
        if self.rest.is_empty() { Ok(()) } else { self.err("unexpected input") }
    }

    /// Runs a nom parser on the remaining input.
    fn nom<T>(&mut self, mut parser: impl FnMut(&'a str) -> IResult<&'a str, T>, what: &str) -> Res<T> {
        match parser(self.rest) {
            Ok((rest, v)) => {
                self.rest = rest;
                Ok(v)
            }
            Err(_) => self.err(format!("expected {what}")),
        }
    }

    /// A keyword followed by a word boundary (space, `(`, or end).
    fn keyword(&mut self, word: &str) -> bool {
        let n = word.len();
        let matches = self.rest.get(..n).is_some_and(|w| w.eq_ignore_ascii_case(word))
            && self.rest[n..].chars().next().is_none_or(|c| !is_name_char(c));
        if matches {
            self.bump(n);
        }
        matches
    }

    fn enter(&self, depth: usize) -> Res<()> {
        if depth >= self.limits.max_depth {
            return self.err(format!("nested deeper than {}", self.limits.max_depth));
        }
        Ok(())
    }

    fn or_expr(&mut self, depth: usize) -> Res<Filter> {
        self.chain(depth, "or", Self::and_expr, Filter::Or)
    }

    fn and_expr(&mut self, depth: usize) -> Res<Filter> {
        self.chain(depth, "and", Self::unary, Filter::And)
    }

    /// `operand (SP word SP operand)*`, folded to the left.
    fn chain(
        &mut self,
        depth: usize,
        word: &'static str,
        operand: fn(&mut Self, usize) -> Res<Filter>,
        join: fn(Box<Filter>, Box<Filter>) -> Filter,
    ) -> Res<Filter> {
        let mut left = operand(self, depth)?;
        loop {
            let save = self.rest;
            if self.skip_ws() > 0 && self.keyword(word) {
                if self.skip_ws() == 0 {
                    return self.err(format!("expected a space and a filter after `{word}`"));
                }
                let right = operand(self, depth)?;
                left = join(Box::new(left), Box::new(right));
            } else {
                self.rest = save;
                return Ok(left);
            }
        }
    }

    fn unary(&mut self, depth: usize) -> Res<Filter> {
        self.enter(depth)?;
        if self.peek() == Some('(') {
            return self.group(depth);
        }
        let save = self.rest;
        if self.keyword("not") {
            self.skip_ws();
            if self.peek() == Some('(') {
                return Ok(Filter::Not(Box::new(self.group(depth)?)));
            }
            // `not` as an attribute name.
            self.rest = save;
        }
        self.term(depth)
    }

    fn group(&mut self, depth: usize) -> Res<Filter> {
        self.expect_char('(')?;
        self.skip_ws();
        let inner = self.or_expr(depth + 1)?;
        self.skip_ws();
        self.expect_char(')')?;
        Ok(inner)
    }

    /// `attrPath pr`, `attrPath op value`, or `attrPath[filter]`.
    fn term(&mut self, depth: usize) -> Res<Filter> {
        self.terms += 1;
        if self.terms > self.limits.max_terms {
            return self.err(format!("more than {} comparisons", self.limits.max_terms));
        }
        let path = self.attr_path()?;
        if self.peek() == Some('[') {
            if path.sub.is_some() {
                return self.err("a value filter applies to an attribute, not a sub-attribute");
            }
            if self.in_value_path {
                return self.err("value filters do not nest");
            }
            self.bump(1);
            self.skip_ws();
            self.in_value_path = true;
            let inner = self.or_expr(depth + 1)?;
            self.in_value_path = false;
            self.skip_ws();
            self.expect_char(']')?;
            return Ok(Filter::ValuePath { path, filter: Box::new(inner) });
        }
        if self.skip_ws() == 0 {
            return self.err("expected a space and an operator after the attribute");
        }
        if self.keyword("pr") {
            return Ok(Filter::Present(path));
        }
        let op = self.nom(compare_op, "an operator (eq ne co sw ew gt lt ge le pr)")?;
        if self.skip_ws() == 0 {
            return self.err("expected a space after the operator");
        }
        let value = self.comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn comp_value(&mut self) -> Res<CompValue> {
        let start = self.pos();
        match self.peek() {
            Some('"') => {
                let literal = self.nom(string_literal, "a string")?;
                let value: String = serde_json::from_str(literal)
                    .map_err(|e| FilterError { position: start, message: format!("invalid string: {e}") })?;
                // Valid JSON, but no attribute holds it and PostgreSQL text cannot.
                if value.contains('\0') {
                    return Err(FilterError { position: start, message: "strings may not contain U+0000".into() });
                }
                Ok(CompValue::String(value))
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let lexeme = self.nom(number, "a number")?;
                parse_number(lexeme)
                    .map(CompValue::Number)
                    .ok_or_else(|| FilterError { position: start, message: "number out of range".into() })
            }
            _ => {
                if self.keyword("true") {
                    Ok(CompValue::Bool(true))
                } else if self.keyword("false") {
                    Ok(CompValue::Bool(false))
                } else if self.keyword("null") {
                    Ok(CompValue::Null)
                } else {
                    self.err("expected a value (string, number, true, false or null)")
                }
            }
        }
    }

    fn attr_name(&mut self) -> Res<String> {
        self.nom(attr_name, "an attribute name").map(str::to_owned)
    }

    fn attr_path(&mut self) -> Res<AttrPath> {
        let start = self.pos();
        // A URN prefix runs up to the last `:` of the path token.
        let token_len = self.rest.find(|c: char| !(is_name_char(c) || c == ':' || c == '.')).unwrap_or(self.rest.len());
        let token = &self.rest[..token_len];
        let mut urn = None;
        if token.len() > 4 && token[..4].eq_ignore_ascii_case("urn:") {
            let Some(colon) = token.rfind(':') else { return self.err("expected an attribute name") };
            urn = Some(token[..colon].to_owned());
            self.bump(colon + 1);
        }
        let name = self.attr_name()?;
        let sub = if self.peek() == Some('.') {
            self.bump(1);
            Some(self.attr_name()?)
        } else {
            None
        };
        if self.peek() == Some('.') || self.peek() == Some(':') {
            return Err(FilterError { position: start, message: "malformed attribute path".into() });
        }
        Ok(AttrPath { urn, name, sub })
    }
}

mod lex;
use lex::{attr_name, compare_op, is_name_char, number, parse_number, string_literal};

mod print;

#[cfg(test)]
mod tests;
