//! The in-memory client registry the token, introspection and revocation
//! endpoints authenticate against, so that the hot path reads no row and
//! re-validates no registration. Entries are re-read after `refresh`
//! (changes made by the CLI or another instance arrive within it) and
//! dropped at once when this instance changes the client. While the
//! database is down, cached entries are served however old (a re-read
//! would only wait out the pool's timeout) and unknown ones are refused
//! at once.

use super::registry::{self, Client, RegistryError};
use crate::clock::Clock;
use crate::store::Db;
use crate::store::health::DbHealth;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Bounds memory when many distinct clients authenticate; far above the
/// number of clients a deployment registers.
const CAPACITY: usize = 16_384;

struct Entry {
    client: Arc<Client>,
    loaded: Instant,
    /// Set by the one request that re-reads an expired entry; the others
    /// keep using it meanwhile instead of all reading the same row.
    refreshing: AtomicBool,
}

pub struct ClientCache {
    entries: RwLock<HashMap<String, Arc<Entry>>>,
    refresh: Duration,
    health: Arc<DbHealth>,
    clock: Arc<dyn Clock>,
}

impl ClientCache {
    pub fn new(refresh: Duration, health: Arc<DbHealth>, clock: Arc<dyn Clock>) -> Self {
        Self { entries: RwLock::new(HashMap::new()), refresh, health, clock }
    }

    /// The client, from memory when fresh enough, else from the database.
    pub async fn get(&self, db: &Db, client_id: &str) -> Result<Arc<Client>, RegistryError> {
        let cached = self.entries.read().ok().and_then(|m| m.get(client_id).cloned());
        if let Some(entry) = &cached {
            let fresh = self.clock.instant().duration_since(entry.loaded) < self.refresh;
            // Stale: exactly one caller re-reads; the rest use the entry.
            if fresh || self.health.is_down() || entry.refreshing.swap(true, Ordering::AcqRel) {
                return Ok(entry.client.clone());
            }
        } else if self.health.is_down() {
            return Err(RegistryError::Unavailable);
        }
        let read = self.read(db, client_id).await;
        if read.is_err()
            && let Some(entry) = cached
        {
            // A transient database error lets the next caller try again.
            entry.refreshing.store(false, Ordering::Release);
        }
        read
    }

    /// Re-reads the client if the cached copy is at least `age` old;
    /// `None` when the cached copy is younger (it is as good as a re-read).
    pub async fn reload_if_older(
        &self,
        db: &Db,
        client_id: &str,
        age: Duration,
    ) -> Result<Option<Arc<Client>>, RegistryError> {
        let loaded = self.entries.read().ok().and_then(|m| m.get(client_id).map(|e| e.loaded));
        if loaded.is_some_and(|at| self.clock.instant().duration_since(at) < age) || self.health.is_down() {
            return Ok(None);
        }
        self.read(db, client_id).await.map(Some)
    }

    /// Reads the row and caches it; a deleted or unreadable client is
    /// forgotten.
    async fn read(&self, db: &Db, client_id: &str) -> Result<Arc<Client>, RegistryError> {
        match registry::get_client(db, client_id).await {
            Ok(client) => {
                let client = Arc::new(client);
                self.insert(client.clone());
                Ok(client)
            }
            Err(e) => {
                if matches!(e, RegistryError::NotFound | RegistryError::Corrupt { .. }) {
                    self.invalidate(client_id);
                }
                Err(e)
            }
        }
    }

    /// Forgets a client this instance has just changed or deleted.
    pub fn invalidate(&self, client_id: &str) {
        if let Ok(mut m) = self.entries.write() {
            m.remove(client_id);
        }
    }

    fn insert(&self, client: Arc<Client>) {
        let Ok(mut m) = self.entries.write() else { return };
        if m.len() >= CAPACITY && !m.contains_key(&client.client_id) {
            let (refresh, now) = (self.refresh, self.clock.instant());
            m.retain(|_, e| now.duration_since(e.loaded) < refresh);
            if m.len() >= CAPACITY {
                m.clear();
            }
        }
        let entry = Entry { client, loaded: self.clock.instant(), refreshing: AtomicBool::new(false) };
        m.insert(entry.client.client_id.clone(), Arc::new(entry));
    }
}
