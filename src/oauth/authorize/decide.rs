//! What a validated authorization request needs next, given the browser's
//! session: a (fresh) login, a second factor, consent, or the code. A pure
//! function of the request, the session and the facts looked up so far; it
//! names the fact it lacks instead of guessing, so the handler reads only
//! what the decision turns on (no factor lookup for a request that needs
//! no second factor, no consent lookup for a client that needs none).

use super::AuthorizationRequest;
use crate::mfa::{ACR_MFA, satisfies};
use chrono::{DateTime, Utc};
use entity::sessions::Model as Session;

/// What is known about the signed-in person beyond the session itself;
/// `None` is "not looked up yet".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The `mfa` setting demands a second factor of this person.
    pub mfa_required: Option<bool>,
    /// The person has enrolled a second factor.
    pub has_second_factor: Option<bool>,
    /// The scopes the person remembered granting this client (`Some(None)`:
    /// none remembered).
    pub remembered_scope: Option<Option<String>>,
}

/// A fact `decide` needs before it can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    MfaRequired,
    HasSecondFactor,
    RememberedScope,
}

/// The next step of an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Look this up and decide again.
    Lookup(Fact),
    /// Sign in: no usable session, or `prompt=login` / `max_age` asks for a
    /// fresh one. The login satisfies both, so they are not carried on.
    Login { hint: Option<String> },
    /// A second factor is due and the person has one: challenge it.
    StepUp,
    /// A second factor is due and the person has none: the password again
    /// first (a borrowed session must not enrol a factor of its own).
    Enrol,
    /// Ask the person to approve these scopes (`prompt=consent` is then
    /// satisfied and not carried on).
    Consent { scopes: Vec<String> },
    /// Everything holds: issue the authorization code.
    IssueCode,
    /// Tell the client, at its redirect URI (`prompt=none` could not be met).
    ErrorToClient { error: &'static str, description: &'static str },
}

/// Decides the next step. `session` is the browser's live session whose
/// account is active, if any.
pub fn decide(ar: &AuthorizationRequest, session: Option<&Session>, facts: &Facts, now: DateTime<Utc>) -> Next {
    // max_age=0 is a fresh login every time (OIDC Core §3.1.2.1).
    let fresh_enough = |s: &Session| ar.max_age.is_none_or(|m| m > 0 && (now - s.auth_time).num_seconds() <= m);
    let session = match session {
        Some(s) if !ar.prompt.login && fresh_enough(s) => s,
        _ if ar.prompt.none => return to_client("login_required", "the user must sign in"),
        _ => return Next::Login { hint: ar.login_hint.clone() },
    };
    // Step-up: the client asks for MFA (`acr_values`), or the policy now
    // demands it of this person and the session predates that.
    if session.acr != ACR_MFA {
        let asked = ar.acr_values.as_deref().is_some_and(|a| !satisfies(&session.acr, a));
        let required = asked
            || match facts.mfa_required {
                Some(r) => r,
                None => return Next::Lookup(Fact::MfaRequired),
            };
        if required {
            if ar.prompt.none {
                return to_client("login_required", "the user must use a second factor");
            }
            return match facts.has_second_factor {
                Some(true) => Next::StepUp,
                Some(false) => Next::Enrol,
                None => Next::Lookup(Fact::HasSecondFactor),
            };
        }
    }
    if ar.client.registration.consent_required {
        let Some(remembered) = &facts.remembered_scope else { return Next::Lookup(Fact::RememberedScope) };
        let covered = remembered.as_deref().is_some_and(|g| ar.scopes.iter().all(|s| g.split(' ').any(|x| x == s)));
        if !covered || ar.prompt.consent {
            if ar.prompt.none {
                return to_client("consent_required", "the user must approve this client");
            }
            return Next::Consent { scopes: ar.scopes.clone() };
        }
    }
    Next::IssueCode
}

fn to_client(error: &'static str, description: &'static str) -> Next {
    Next::ErrorToClient { error, description }
}

#[cfg(test)]
mod tests;
