//! Password hashing with argon2id (OWASP parameters) on the blocking pool,
//! with a bounded number of hashes in flight so that a login flood queues
//! instead of starving the async workers that issue tokens.

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
pub const OWASP_M_COST_KIB: u32 = 19 * 1024;
pub const OWASP_T_COST: u32 = 2;
pub const OWASP_P_COST: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("stored password hash is malformed")]
    MalformedHash,
    #[error("password hashing worker stopped")]
    Worker,
}

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Correct; `needs_rehash` when the stored hash used other parameters.
    Valid {
        needs_rehash: bool,
    },
    Invalid,
}

/// Shared hasher; clone freely.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of nothing in particular, verified against when the account
    /// does not exist so that the answer takes as long as for one that does.
    dummy: Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("in_flight_max", &self.permits.available_permits()).finish()
    }
}

impl PasswordHasher {
    /// At most `max_in_flight` hashes run at once (at least one).
    pub fn new(max_in_flight: usize) -> Result<Self, PasswordError> {
        let params = Params::new(OWASP_M_COST_KIB, OWASP_T_COST, OWASP_P_COST, None)
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            dummy: Arc::new(std::sync::OnceLock::new()),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes with a fresh random salt into a PHC string.
    pub async fn hash(&self, password: Zeroizing<String>) -> Result<String, PasswordError> {
        let argon2 = self.argon2();
        self.run(move || {
            argon2
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| PasswordError::Hash(e.to_string()))
        })
        .await
    }

    /// Checks a password against a stored PHC string.
    pub async fn verify(&self, password: Zeroizing<String>, phc: String) -> Result<Verification, PasswordError> {
        let current = self.params.clone();
        self.run(move || {
            let parsed = PasswordHash::new(&phc).map_err(|_| PasswordError::MalformedHash)?;
            let needs_rehash = parsed.algorithm.as_str() != "argon2id"
                || Params::try_from(&parsed).map_or(true, |p| {
                    p.m_cost() != current.m_cost() || p.t_cost() != current.t_cost() || p.p_cost() != current.p_cost()
                });
            // Verification uses the parameters stored in the hash.
            match Argon2::default().verify_password(password.as_bytes(), &parsed) {
                Ok(()) => Ok(Verification::Valid { needs_rehash }),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(Verification::Invalid),
                Err(_) => Err(PasswordError::MalformedHash),
            }
        })
        .await
    }

    /// Spends the time of one verification and always fails: for unknown
    /// accounts, so that timing does not tell them apart.
    pub async fn burn(&self, password: Zeroizing<String>) -> Result<Verification, PasswordError> {
        let phc = match self.dummy.get() {
            Some(p) => p.clone(),
            None => {
                let p = self.hash(Zeroizing::new("gatehouse-dummy-password".to_owned())).await?;
                self.dummy.get_or_init(|| p).clone()
            }
        };
        self.verify(password, phc).await.map(|_| Verification::Invalid)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| PasswordError::Worker)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| PasswordError::Worker)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Zeroizing<String> {
        Zeroizing::new(s.to_owned())
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = PasswordHasher::new(2).unwrap();
        let phc = h.hash(pw("correct horse battery")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(
            h.verify(pw("correct horse battery"), phc.clone()).await.unwrap(),
            Verification::Valid { needs_rehash: false }
        );
        assert_eq!(h.verify(pw("wrong"), phc).await.unwrap(), Verification::Invalid);
    }

    #[tokio::test]
    async fn weaker_parameters_ask_for_a_rehash() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).unwrap());
        let phc = weak.hash_password(b"pw-long-enough").unwrap().to_string();
        let h = PasswordHasher::new(1).unwrap();
        assert_eq!(h.verify(pw("pw-long-enough"), phc).await.unwrap(), Verification::Valid { needs_rehash: true });
    }

    #[tokio::test]
    async fn garbage_hash_is_an_error_not_a_match() {
        let h = PasswordHasher::new(1).unwrap();
        assert!(matches!(h.verify(pw("x"), "not-a-phc".into()).await, Err(PasswordError::MalformedHash)));
    }
}
