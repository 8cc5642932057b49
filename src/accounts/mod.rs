//! Accounts: users, password hashing and the first-start bootstrap admin.

pub mod audit_log;
pub mod bootstrap;
pub mod devices;
pub mod directory;
pub mod export;
pub mod groups;
pub mod identifiers;
pub mod lockout;
pub mod login;
pub mod password;
pub mod password_policy;
pub mod sign_in;
pub mod users;

pub use password::{PasswordError, PasswordHasher, Verification};
pub use users::{AccountError, NewUser, Password, Username};
