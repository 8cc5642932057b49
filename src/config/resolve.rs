//! Typed reads of the merged configuration layers: each read checks the
//! value's type and range and remembers where it came from, so an error
//! names the setting and its origin.

use super::ConfigError;
use super::load::{Layers, Origin};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Typed reads of the merged layers, remembering each value's origin.
pub(super) struct Resolver<'a> {
    pub(super) layers: &'a Layers,
    pub(super) origins: BTreeMap<&'static str, Origin>,
}

impl Resolver<'_> {
    pub(super) fn raw(&mut self, key: &'static str) -> Option<toml::Value> {
        let raw = self.layers.get(key)?;
        self.origins.insert(key, raw.origin.clone());
        Some(raw.value.clone())
    }

    pub(super) fn error(&self, key: &'static str, message: impl Into<String>) -> ConfigError {
        let origin = self.origins.get(key).cloned().unwrap_or(Origin::Default);
        ConfigError::invalid(key, &origin, message)
    }

    pub(super) fn string(&mut self, key: &'static str) -> Result<Option<String>, ConfigError> {
        match self.raw(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) if s.trim().is_empty() => Err(self.error(key, "must not be empty")),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.error(key, format!("expected a string, got {}", other.type_str()))),
        }
    }

    pub(super) fn int(&mut self, key: &'static str, min: u64, max: u64) -> Result<Option<u64>, ConfigError> {
        let v = match self.raw(key) {
            None => return Ok(None),
            Some(toml::Value::Integer(i)) => u64::try_from(i).ok(),
            Some(toml::Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(_) => None,
        };
        match v {
            Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(self.error(key, format!("expected an integer from {min} to {max}"))),
        }
    }

    pub(super) fn boolean(&mut self, key: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.raw(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(b)),
            Some(toml::Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" => Ok(Some(false)),
                _ => Err(self.error(key, format!("expected true or false, got `{s}`"))),
            },
            Some(other) => Err(self.error(key, format!("expected a boolean, got {}", other.type_str()))),
        }
    }

    pub(super) fn socket_addr(&mut self, key: &'static str) -> Result<Option<SocketAddr>, ConfigError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| self.error(key, format!("expected IP:PORT (e.g. 127.0.0.1:8080), got `{s}`"))),
        }
    }
}
