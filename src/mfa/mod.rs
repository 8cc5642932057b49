//! Second factors: TOTP (RFC 6238), one-time recovery codes, the policy
//! that says who must have one, and the `amr`/`acr` a login earns.

pub mod recovery;
pub mod service;
pub mod totp;
pub mod webauthn;

use crate::wire::wire_enum;

/// `acr` of a login with one factor.
pub const ACR_PASSWORD: &str = "urn:gatehouse:acr:password";
/// `acr` of a login with two factors of different kinds.
pub const ACR_MFA: &str = "urn:gatehouse:acr:mfa";
/// What discovery advertises, weakest first.
pub const ACR_VALUES: &[&str] = &[ACR_PASSWORD, ACR_MFA];

wire_enum! {
    /// Who must have a second factor.
    pub enum MfaPolicy {
        /// Those who enrolled one use it; nobody is made to enrol.
        Optional = "optional",
        /// Admins (the flag, or a group that grants admin) must.
        RequiredForAdmins = "required_for_admins",
        Required = "required",
    }
}

impl MfaPolicy {
    pub fn requires(self, is_admin: bool) -> bool {
        match self {
            MfaPolicy::Optional => false,
            MfaPolicy::RequiredForAdmins => is_admin,
            MfaPolicy::Required => true,
        }
    }
}

/// Methods (RFC 8176) of a login, in order, without duplicates; `mfa` is
/// added once a possession factor joins the password.
pub fn amr_after(so_far: &str, method: &str) -> String {
    let mut methods: Vec<&str> = so_far.split(' ').filter(|m| !m.is_empty() && *m != "mfa").collect();
    if !methods.contains(&method) {
        methods.push(method);
    }
    let knowledge = methods.contains(&"pwd");
    let possession = methods.iter().any(|m| matches!(*m, "otp" | "hwk" | "swk"));
    if knowledge && possession {
        methods.push("mfa");
    }
    methods.join(" ")
}

/// The `acr` that an `amr` list earns.
pub fn acr_of(amr: &str) -> &'static str {
    if amr.split(' ').any(|m| m == "mfa") { ACR_MFA } else { ACR_PASSWORD }
}

/// Whether a session with `acr` satisfies a request's `acr_values` (a
/// space-separated preference list): any listed value at or below the
/// session's strength does. Unknown values are ignored (OIDC Core §3.1.2.1
/// makes acr_values voluntary); only our MFA value demands a step-up.
pub fn satisfies(acr: &str, acr_values: &str) -> bool {
    let wanted: Vec<&str> = acr_values.split(' ').filter(|v| ACR_VALUES.contains(v)).collect();
    if wanted.is_empty() || acr == ACR_MFA {
        return true;
    }
    wanted.contains(&ACR_PASSWORD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_gains_mfa_only_with_two_kinds_of_factor() {
        assert_eq!(amr_after("", "pwd"), "pwd");
        assert_eq!(amr_after("pwd", "otp"), "pwd otp mfa");
        assert_eq!(amr_after("pwd otp mfa", "otp"), "pwd otp mfa");
        assert_eq!(amr_after("pwd", "pwd"), "pwd");
        assert_eq!(amr_after("", "hwk"), "hwk");
        assert_eq!(acr_of("pwd otp mfa"), ACR_MFA);
        assert_eq!(acr_of("pwd"), ACR_PASSWORD);
    }

    #[test]
    fn acr_values_ask_for_a_step_up_only_with_the_mfa_value() {
        assert!(satisfies(ACR_PASSWORD, ""));
        assert!(satisfies(ACR_PASSWORD, "urn:other:loa:1"));
        assert!(satisfies(ACR_PASSWORD, &format!("{ACR_MFA} {ACR_PASSWORD}")));
        assert!(!satisfies(ACR_PASSWORD, ACR_MFA));
        assert!(satisfies(ACR_MFA, ACR_MFA));
        assert!(satisfies(ACR_MFA, ACR_PASSWORD));
    }

    #[test]
    fn policy_parses_its_wire_names() {
        assert_eq!("required_for_admins".parse::<MfaPolicy>(), Ok(MfaPolicy::RequiredForAdmins));
        assert!("sometimes".parse::<MfaPolicy>().is_err());
        assert!(MfaPolicy::RequiredForAdmins.requires(true));
        assert!(!MfaPolicy::RequiredForAdmins.requires(false));
        assert!(MfaPolicy::Required.requires(false));
        assert!(!MfaPolicy::Optional.requires(true));
    }
}
