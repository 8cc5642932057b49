//! Every row held about one person, read in one transaction, for the data
//! export (GDPR art. 15 and 20). What becomes of the rows — which columns
//! leave the building, which never do — is `accounts::export`'s decision.

use super::StoreError;
use entity::{
    account_lockouts, audit_events, consents, group_members, groups, mfa_recovery_codes, mfa_totp, refresh_families,
    sessions, user_multi_values, users, webauthn_credentials,
};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    TransactionTrait as _,
};

pub struct PersonRows {
    pub user: users::Model,
    pub multi_values: Vec<user_multi_values::Model>,
    pub groups: Vec<groups::Model>,
    pub sessions: Vec<sessions::Model>,
    pub consents: Vec<consents::Model>,
    pub totp: Option<mfa_totp::Model>,
    pub passkeys: Vec<webauthn_credentials::Model>,
    pub recovery_codes_left: u64,
    pub refresh_families: Vec<refresh_families::Model>,
    pub lockout: Option<account_lockouts::Model>,
    /// Events the person did (`actor` = `user:<id>`) or that were done to
    /// them (`target` = their id), oldest first.
    pub audit_events: Vec<audit_events::Model>,
}

/// `None` when no user has this id.
pub async fn person(db: &DatabaseConnection, user_id: &str) -> Result<Option<PersonRows>, StoreError> {
    // One snapshot: the document describes one instant.
    let txn = db.begin().await?;
    let Some(user) = users::Entity::find_by_id(user_id).one(&txn).await? else {
        return Ok(None);
    };
    let multi_values = user_multi_values::Entity::find()
        .filter(user_multi_values::Column::UserId.eq(user_id))
        .order_by_asc(user_multi_values::Column::Attribute)
        .order_by_asc(user_multi_values::Column::Position)
        .all(&txn)
        .await?;
    let group_ids: Vec<String> = group_members::Entity::find()
        .filter(group_members::Column::UserId.eq(user_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    let groups = groups::Entity::find()
        .filter(groups::Column::Id.is_in(group_ids))
        .order_by_asc(groups::Column::DisplayName)
        .all(&txn)
        .await?;
    let sessions = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .order_by_asc(sessions::Column::CreatedAt)
        .all(&txn)
        .await?;
    let consents = consents::Entity::find()
        .filter(consents::Column::UserId.eq(user_id))
        .order_by_asc(consents::Column::ClientId)
        .all(&txn)
        .await?;
    let totp = mfa_totp::Entity::find().filter(mfa_totp::Column::UserId.eq(user_id)).one(&txn).await?;
    let passkeys = webauthn_credentials::Entity::find()
        .filter(webauthn_credentials::Column::UserId.eq(user_id))
        .order_by_asc(webauthn_credentials::Column::CreatedAt)
        .all(&txn)
        .await?;
    let recovery_codes_left = mfa_recovery_codes::Entity::find()
        .filter(mfa_recovery_codes::Column::UserId.eq(user_id))
        .filter(mfa_recovery_codes::Column::UsedAt.is_null())
        .count(&txn)
        .await?;
    let refresh_families = refresh_families::Entity::find()
        .filter(refresh_families::Column::UserId.eq(user_id))
        .order_by_asc(refresh_families::Column::CreatedAt)
        .all(&txn)
        .await?;
    let lockout = account_lockouts::Entity::find_by_id(user_id).one(&txn).await?;
    let audit_events = audit_events::Entity::find()
        .filter(super::audit::by_or_about(user_id))
        .order_by_asc(audit_events::Column::Id)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(Some(PersonRows {
        user,
        multi_values,
        groups,
        sessions,
        consents,
        totp,
        passkeys,
        recovery_codes_left,
        refresh_families,
        lockout,
        audit_events,
    }))
}
