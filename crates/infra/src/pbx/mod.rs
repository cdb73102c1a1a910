//! PBX profiles in the database: common columns, the type's settings as JSON and its secrets encrypted.

mod kazoo;
mod three_cx;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pbx_application::{InsertPbxError, PbxRepository, RepositoryError};
use pbx_domain::{PbxConnection, PbxProfile, PbxType};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::db_error::{is_unique_violation, repository_error};
use crate::entity::pbx_profile;
use crate::{Database, SecretCipher};

/// The stored form of a connection: its non-secret settings and its secrets, both JSON.
struct Stored {
    settings: serde_json::Value,
    secrets: serde_json::Value,
}

fn store(connection: &PbxConnection) -> anyhow::Result<Stored> {
    match connection {
        PbxConnection::Kazoo(kazoo) => kazoo::store(kazoo),
        PbxConnection::ThreeCx(three_cx) => three_cx::store(three_cx),
    }
}

/// [`PbxRepository`] over SeaORM.
#[derive(Debug, Clone)]
pub struct SeaOrmPbxRepository {
    db: Database,
    cipher: SecretCipher,
}

impl SeaOrmPbxRepository {
    /// The repository over `db`, encrypting secrets with `cipher`.
    #[must_use]
    pub fn new(db: Database, cipher: SecretCipher) -> Self {
        Self { db, cipher }
    }

    fn row(&self, profile: &PbxProfile, created_at: DateTime<Utc>) -> anyhow::Result<pbx_profile::ActiveModel> {
        let stored = store(&profile.connection)?;
        let secrets = self.cipher.encrypt(&serde_json::to_vec(&stored.secrets)?, profile.id.as_uuid().as_bytes())?;
        let instance = profile.instance_id();
        Ok(pbx_profile::ActiveModel {
            id: Set(profile.id.as_uuid()),
            customer_id: Set(profile.customer_id.as_uuid()),
            pbx_type: Set(instance.pbx_type().as_str().to_owned()),
            instance_id: Set(instance.value().to_owned()),
            name: Set(profile.name.to_string()),
            country_code: Set(profile.country_code.to_string()),
            enabled: Set(profile.enabled),
            settings: Set(stored.settings),
            secrets: Set(secrets),
            created_at: Set(created_at),
            version: Set(1),
        })
    }
}

#[async_trait]
impl PbxRepository for SeaOrmPbxRepository {
    async fn insert(&self, profile: &PbxProfile, created_at: DateTime<Utc>) -> Result<(), InsertPbxError> {
        let row = self.row(profile, created_at).map_err(RepositoryError::Unexpected)?;
        match pbx_profile::Entity::insert(row).exec_without_returning(self.db.connection()).await {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(InsertPbxError::InstanceAttached),
            Err(e) => Err(repository_error(e).into()),
        }
    }

    async fn instance_attached(&self, pbx_type: PbxType, instance_id: &str) -> Result<bool, RepositoryError> {
        let count = pbx_profile::Entity::find()
            .filter(pbx_profile::Column::PbxType.eq(pbx_type.as_str()))
            .filter(pbx_profile::Column::InstanceId.eq(instance_id))
            .count(self.db.connection())
            .await
            .map_err(repository_error)?;
        Ok(count > 0)
    }
}
