//! Passkeys and security keys (WebAuthn, through webauthn-rs): registration,
//! use as a second factor, and passwordless sign-in with discoverable
//! credentials. Each ceremony's server state is stored between its two
//! requests and taken exactly once; user verification is always required,
//! so a passkey alone is a multi-factor login.

use super::service::MfaError;
use crate::store::{Db, webauthn as store};
use chrono::{DateTime, Duration, Utc};
use entity::users::Model as User;
use entity::webauthn_ceremonies::Model as Ceremony;
use entity::webauthn_credentials::Model as StoredCredential;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

/// How long a ceremony may take (the browser's own timeout is shorter).
const CEREMONY_MINUTES: i64 = 5;
/// Longest credential name kept.
pub const MAX_NAME_CHARS: usize = 64;

/// What started a ceremony, so its state cannot be used for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    SecondFactor,
    Passwordless,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SecondFactor => "second_factor",
            Purpose::Passwordless => "passwordless",
        }
    }
}

/// A verified assertion: whose, with which credential, and its RFC 8176
/// method (`hwk` for a device-bound key, `swk` for a synced passkey).
#[derive(Debug, Clone)]
pub struct Assertion {
    pub user_id: String,
    pub cred_id: String,
    pub method: &'static str,
}

/// The relying party: our issuer's host and origin.
pub struct Passkeys {
    webauthn: Webauthn,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passkeys")
    }
}

impl Passkeys {
    /// `None` when the issuer's host is an IP address: browsers accept only
    /// domain names as WebAuthn relying-party ids.
    pub fn for_issuer(issuer: &str) -> Result<Option<Self>, String> {
        let origin = Url::parse(issuer).map_err(|e| e.to_string())?;
        let Some(url::Host::Domain(host)) = origin.host() else { return Ok(None) };
        let host = host.to_owned();
        let webauthn = WebauthnBuilder::new(&host, &origin)
            .map_err(|e| e.to_string())?
            .rp_name("Gatehouse")
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Some(Self { webauthn }))
    }

    /// Starts registering a new credential for `user`; answers the ceremony
    /// id and the options for `navigator.credentials.create`.
    pub async fn begin_registration(
        &self,
        db: &Db,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<(String, serde_json::Value), MfaError> {
        let existing = passkeys_of(db, &user.id).await?;
        let exclude = existing.iter().map(|(_, p)| p.cred_id().clone()).collect::<Vec<_>>();
        let display = user.display_name.as_deref().unwrap_or(&user.username);
        let (ccr, state) = self
            .webauthn
            .start_passkey_registration(user_uuid(user)?, &user.username, display, Some(exclude))
            .map_err(webauthn_error)?;
        let mut options = serde_json::to_value(ccr).map_err(json_error)?;
        // Ask for a discoverable credential where the authenticator can
        // make one, so that it also works without a username.
        if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection").and_then(|v| v.as_object_mut()) {
            sel.insert("residentKey".into(), "preferred".into());
        }
        let id = save_ceremony(db, Some(&user.id), Purpose::Register, &state, now).await?;
        Ok((id, options))
    }

    /// Verifies the browser's answer and stores the credential.
    pub async fn finish_registration(
        &self,
        db: &Db,
        user: &User,
        ceremony: &str,
        credential: &RegisterPublicKeyCredential,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredCredential, MfaError> {
        let row = take(db, ceremony, Purpose::Register, now).await?;
        if row.user_id.as_deref() != Some(user.id.as_str()) {
            return Err(MfaError::Ceremony);
        }
        let state: PasskeyRegistration = serde_json::from_str(&row.state).map_err(json_error)?;
        let passkey = self.webauthn.finish_passkey_registration(credential, &state).map_err(webauthn_error)?;
        let json = serde_json::to_value(&passkey).map_err(json_error)?;
        let backup_eligible =
            json.pointer("/cred/backup_eligible").and_then(serde_json::Value::as_bool).unwrap_or(false);
        let name: String = name.trim().chars().take(MAX_NAME_CHARS).collect();
        let stored = StoredCredential {
            cred_id: b64(passkey.cred_id()),
            user_id: user.id.clone(),
            name: if name.is_empty() { "Passkey".to_owned() } else { name },
            passkey: json.to_string(),
            discoverable: credential.extensions.cred_props.as_ref().and_then(|p| p.rk).unwrap_or(false),
            backup_eligible,
            created_at: now,
            last_used_at: None,
        };
        if !store::insert_credential(db, stored.clone()).await? {
            return Err(MfaError::Duplicate);
        }
        Ok(stored)
    }

    /// Starts an assertion with one of `user_id`'s credentials.
    pub async fn begin_second_factor(
        &self,
        db: &Db,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, serde_json::Value), MfaError> {
        let keys: Vec<Passkey> = passkeys_of(db, user_id).await?.into_iter().map(|(_, p)| p).collect();
        if keys.is_empty() {
            return Err(MfaError::UnknownCredential);
        }
        let (rcr, state) = self.webauthn.start_passkey_authentication(&keys).map_err(webauthn_error)?;
        let id = save_ceremony(db, Some(user_id), Purpose::SecondFactor, &state, now).await?;
        Ok((id, serde_json::to_value(rcr).map_err(json_error)?))
    }

    /// Verifies an assertion for `user_id`: only their credentials are
    /// allowed, so another person's key is refused.
    pub async fn finish_second_factor(
        &self,
        db: &Db,
        user_id: &str,
        ceremony: &str,
        credential: &PublicKeyCredential,
        now: DateTime<Utc>,
    ) -> Result<Assertion, MfaError> {
        let row = take(db, ceremony, Purpose::SecondFactor, now).await?;
        if row.user_id.as_deref() != Some(user_id) {
            return Err(MfaError::Ceremony);
        }
        let state: PasskeyAuthentication = serde_json::from_str(&row.state).map_err(json_error)?;
        let result = self.webauthn.finish_passkey_authentication(credential, &state).map_err(webauthn_error)?;
        let cred_id = b64(result.cred_id());
        let stored = store::find_credential(db, &cred_id).await?.ok_or(MfaError::UnknownCredential)?;
        if stored.user_id != user_id {
            return Err(MfaError::UnknownCredential);
        }
        record_use(db, stored, &result, now).await
    }

    /// Passwordless ceremonies started and not finished or expired: each
    /// start stores one for nobody yet, so their number is bounded.
    pub async fn pending_passwordless(&self, db: &Db, now: DateTime<Utc>) -> Result<u64, MfaError> {
        Ok(store::live_ceremonies(db, Purpose::Passwordless.as_str(), now).await?)
    }

    /// Starts a passwordless sign-in: any discoverable credential of ours.
    pub async fn begin_passwordless(
        &self,
        db: &Db,
        now: DateTime<Utc>,
    ) -> Result<(String, serde_json::Value), MfaError> {
        let (rcr, state) = self.webauthn.start_discoverable_authentication().map_err(webauthn_error)?;
        let id = save_ceremony(db, None, Purpose::Passwordless, &state, now).await?;
        Ok((id, serde_json::to_value(rcr).map_err(json_error)?))
    }

    /// Identifies the person from the credential and verifies it. The user
    /// handle the authenticator returns must name the credential's owner.
    pub async fn finish_passwordless(
        &self,
        db: &Db,
        ceremony: &str,
        credential: &PublicKeyCredential,
        now: DateTime<Utc>,
    ) -> Result<Assertion, MfaError> {
        let row = take(db, ceremony, Purpose::Passwordless, now).await?;
        let state: DiscoverableAuthentication = serde_json::from_str(&row.state).map_err(json_error)?;
        let (user_handle, raw_id) =
            self.webauthn.identify_discoverable_authentication(credential).map_err(webauthn_error)?;
        let stored = store::find_credential(db, &b64(raw_id)).await?.ok_or(MfaError::UnknownCredential)?;
        if Uuid::parse_str(&stored.user_id).ok() != Some(user_handle) {
            return Err(MfaError::UnknownCredential);
        }
        let passkey: Passkey = serde_json::from_str(&stored.passkey).map_err(json_error)?;
        let result =
            self.webauthn.finish_discoverable_authentication_v2(credential, state, &passkey).map_err(webauthn_error)?;
        record_use(db, stored, &result, now).await
    }
}

/// Stores the updated counter and backup state (webauthn-rs has already
/// refused a counter that went backwards: a possible clone).
async fn record_use(
    db: &Db,
    stored: StoredCredential,
    result: &webauthn_rs::prelude::AuthenticationResult,
    now: DateTime<Utc>,
) -> Result<Assertion, MfaError> {
    let mut passkey: Passkey = serde_json::from_str(&stored.passkey).map_err(json_error)?;
    let updated = match passkey.update_credential(result) {
        Some(true) => Some(serde_json::to_string(&passkey).map_err(json_error)?),
        _ => None,
    };
    store::record_use(db, &stored.cred_id, updated.as_deref(), now).await?;
    Ok(Assertion {
        user_id: stored.user_id,
        cred_id: stored.cred_id,
        method: if result.backup_eligible() { "swk" } else { "hwk" },
    })
}

async fn passkeys_of(db: &Db, user_id: &str) -> Result<Vec<(StoredCredential, Passkey)>, MfaError> {
    store::user_credentials(db, user_id)
        .await?
        .into_iter()
        .map(|c| {
            let p: Passkey = serde_json::from_str(&c.passkey).map_err(json_error)?;
            Ok((c, p))
        })
        .collect()
}

async fn save_ceremony<S: serde::Serialize>(
    db: &Db,
    user_id: Option<&str>,
    purpose: Purpose,
    state: &S,
    now: DateTime<Utc>,
) -> Result<String, MfaError> {
    let id = crate::crypto::random_token(32).map_err(|_| MfaError::Random)?;
    store::insert_ceremony(
        db,
        Ceremony {
            id_hash: crate::crypto::hash_secret(&id),
            user_id: user_id.map(str::to_owned),
            purpose: purpose.as_str().to_owned(),
            state: serde_json::to_string(state).map_err(json_error)?,
            created_at: now,
            expires_at: now + Duration::minutes(CEREMONY_MINUTES),
        },
    )
    .await?;
    Ok(id)
}

async fn take(db: &Db, ceremony: &str, purpose: Purpose, now: DateTime<Utc>) -> Result<Ceremony, MfaError> {
    if ceremony.is_empty() || ceremony.len() > 128 {
        return Err(MfaError::Ceremony);
    }
    store::take_ceremony(db, &crate::crypto::hash_secret(ceremony), purpose.as_str(), now)
        .await?
        .ok_or(MfaError::Ceremony)
}

fn user_uuid(user: &User) -> Result<Uuid, MfaError> {
    Uuid::parse_str(&user.id).map_err(|_| MfaError::Webauthn("user id is not a UUID".to_owned()))
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn webauthn_error(e: webauthn_rs::prelude::WebauthnError) -> MfaError {
    MfaError::Webauthn(e.to_string())
}

fn json_error(e: serde_json::Error) -> MfaError {
    MfaError::Webauthn(format!("ceremony state: {e}"))
}
