//! The domain's policy types, built from the settings that tune them.

use super::Settings;

impl Settings {
    pub fn password_policy(&self) -> crate::accounts::password_policy::PasswordPolicy {
        crate::accounts::password_policy::PasswordPolicy {
            min_chars: self.password_min_length,
            max_bytes: self.password_max_bytes,
            history: self.password_history,
        }
    }

    pub fn lockout_policy(&self) -> crate::accounts::lockout::LockoutPolicy {
        let secs = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        crate::accounts::lockout::LockoutPolicy {
            threshold: self.lockout_threshold,
            window: chrono::Duration::minutes(15),
            base: secs(self.lockout_base_secs),
            max: secs(self.lockout_max_secs.max(self.lockout_base_secs)),
        }
    }

    /// The signing-key lifecycle timing.
    pub fn key_policy(&self) -> crate::keys::KeyPolicy {
        let secs = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        crate::keys::KeyPolicy {
            rotation: secs(self.key_rotation_days * 86_400),
            prepublish: secs(self.key_prepublish_secs),
            retire_grace: secs(self.key_retire_grace_secs),
        }
    }

    pub fn database_kind(&self) -> crate::store::DatabaseKind {
        use crate::store::DatabaseKind;
        if self.database_url.expose().starts_with("sqlite:") { DatabaseKind::Sqlite } else { DatabaseKind::Postgres }
    }
}
