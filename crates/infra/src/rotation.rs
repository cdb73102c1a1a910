//! Re-encrypting every stored secret under the current key, row by row, while the service keeps running.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::crypto::key_id_of;
use crate::entity::{pbx_profile, webhook};
use crate::{Database, SecretCipher};

/// Rows read at a time.
const BATCH: u64 = 200;

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Rows whose secrets were re-encrypted under the current key.
    pub re_encrypted: u64,
    /// Rows already under the current key.
    pub already_current: u64,
}

/// Re-encrypts the secrets of every profile and every webhook not yet under `cipher`'s current key; `cipher` must
/// still decrypt the older values (see [`SecretCipher::rotated_to`]). Each row is swapped only if it has not changed since it
/// was read, and read again otherwise, so concurrent writers lose nothing.
///
/// # Errors
/// When the database fails or a value cannot be decrypted with any key of `cipher`.
pub async fn re_encrypt_all(db: &Database, cipher: &SecretCipher) -> anyhow::Result<RotationReport> {
    let target = cipher.key_id();
    let mut report = RotationReport::default();
    let mut after: Option<uuid::Uuid> = None;
    loop {
        let mut query = pbx_profile::Entity::find().order_by_asc(pbx_profile::Column::Id).limit(BATCH);
        if let Some(last) = after {
            query = query.filter(pbx_profile::Column::Id.gt(last));
        }
        let rows = query.all(db.connection()).await?;
        let Some(last) = rows.last().map(|row| row.id) else { break };
        after = Some(last);
        for row in rows {
            let (id, mut secrets) = (row.id, row.secrets);
            loop {
                if key_id_of(&secrets) == Some(target.as_str()) {
                    report.already_current += 1;
                    break;
                }
                let plain = cipher.decrypt(&secrets, id.as_bytes())?;
                let fresh = cipher.encrypt(&plain, id.as_bytes())?;
                let swapped = pbx_profile::Entity::update_many()
                    .set(pbx_profile::ActiveModel { secrets: Set(fresh), ..Default::default() })
                    .filter(pbx_profile::Column::Id.eq(id))
                    .filter(pbx_profile::Column::Secrets.eq(secrets.clone()))
                    .exec(db.connection())
                    .await?;
                if swapped.rows_affected > 0 {
                    report.re_encrypted += 1;
                    break;
                }
                // Changed (or deleted) meanwhile: read it again.
                match pbx_profile::Entity::find_by_id(id).one(db.connection()).await? {
                    Some(current) => secrets = current.secrets,
                    None => break,
                }
            }
        }
    }
    re_encrypt_webhooks(db, cipher, &mut report).await?;
    Ok(report)
}

/// A webhook's sealed secrets: the current one, and the previous one while it has one.
type Sealed = (String, Option<String>);

/// Re-encrypts each webhook's signing secrets (the current and the previous one) not yet under the current key, as
/// [`re_encrypt_all`] does the profiles'.
async fn re_encrypt_webhooks(db: &Database, cipher: &SecretCipher, report: &mut RotationReport) -> anyhow::Result<()> {
    let target = cipher.key_id();
    let current = |sealed: &str| key_id_of(sealed) == Some(target.as_str());
    let mut after: Option<uuid::Uuid> = None;
    loop {
        let mut query = webhook::Entity::find().order_by_asc(webhook::Column::Id).limit(BATCH);
        if let Some(last) = after {
            query = query.filter(webhook::Column::Id.gt(last));
        }
        let rows = query.all(db.connection()).await?;
        let Some(last) = rows.last().map(|row| row.id) else { break };
        after = Some(last);
        for row in rows {
            let id = row.id;
            let mut sealed: Sealed = (row.secret, row.previous_secret);
            loop {
                if current(&sealed.0) && sealed.1.as_deref().is_none_or(current) {
                    report.already_current += 1;
                    break;
                }
                let again = |value: &str| -> anyhow::Result<String> {
                    cipher.encrypt(&cipher.decrypt(value, id.as_bytes())?, id.as_bytes())
                };
                let fresh = webhook::ActiveModel {
                    secret: Set(again(&sealed.0)?),
                    previous_secret: Set(sealed.1.as_deref().map(again).transpose()?),
                    ..Default::default()
                };
                let mut swap = webhook::Entity::update_many()
                    .set(fresh)
                    .filter(webhook::Column::Id.eq(id))
                    .filter(webhook::Column::Secret.eq(sealed.0.clone()));
                swap = match &sealed.1 {
                    Some(previous) => swap.filter(webhook::Column::PreviousSecret.eq(previous.clone())),
                    None => swap.filter(webhook::Column::PreviousSecret.is_null()),
                };
                if swap.exec(db.connection()).await?.rows_affected > 0 {
                    report.re_encrypted += 1;
                    break;
                }
                // Rotated (or deleted) meanwhile: read it again.
                match webhook::Entity::find_by_id(id).one(db.connection()).await? {
                    Some(row) => sealed = (row.secret, row.previous_secret),
                    None => break,
                }
            }
        }
    }
    Ok(())
}
