//! One PBX instance, whatever its spelling: a key column holding the instance id's normal form (hashed, see
//! `instance_key.rs`), unique per PBX type in place of the unique (type, spelling) index.
//!
//! Refuses, naming the profiles, when existing rows already hold one instance under two spellings: which of them
//! should go is the operator's call, so nothing is dropped or changed; the migration checks before any DDL, so a
//! refusal leaves the schema as it was (MySQL cannot roll DDL back).

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_len_null;
use uuid::Uuid;

use crate::instance_key::instance_key;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum PbxProfiles {
    Table,
    Id,
    PbxType,
    InstanceId,
    InstanceKey,
    CreatedAt,
}

const OLD_INDEX: &str = "ux_pbx_profiles_instance";
const NEW_INDEX: &str = "ux_pbx_profiles_instance_key";

/// A stored profile's id, type and instance id.
struct Row {
    id: Uuid,
    pbx_type: String,
    instance_id: String,
}

async fn rows(manager: &SchemaManager<'_>) -> Result<Vec<Row>, DbErr> {
    let select = Query::select()
        .columns([PbxProfiles::Id, PbxProfiles::PbxType, PbxProfiles::InstanceId])
        .from(PbxProfiles::Table)
        .order_by(PbxProfiles::CreatedAt, Order::Asc)
        .to_owned();
    let found = manager.get_connection().query_all(&select).await?;
    found
        .iter()
        .map(|row| {
            Ok(Row {
                id: row.try_get("", "id")?,
                pbx_type: row.try_get("", "pbx_type")?,
                instance_id: row.try_get("", "instance_id")?,
            })
        })
        .collect()
}

/// The groups of profiles that hold one instance under several spellings, as a message naming them.
fn collisions(keyed: &[(String, &Row)]) -> Option<String> {
    let mut groups: BTreeMap<(&str, &str), Vec<&Row>> = BTreeMap::new();
    for (key, row) in keyed {
        groups.entry((row.pbx_type.as_str(), key.as_str())).or_default().push(row);
    }
    let clashes: Vec<String> = groups
        .values()
        .filter(|rows| rows.len() > 1)
        .map(|rows| {
            let named: Vec<String> = rows.iter().map(|r| format!("{} ({:?})", r.id, r.instance_id)).collect();
            format!("{}: {}", rows[0].pbx_type, named.join(", "))
        })
        .collect();
    (!clashes.is_empty()).then(|| {
        format!(
            "{} PBX instance(s) are attached more than once under different spellings (compared after NFKC and \
             without case); delete or change all but one profile of each, then migrate again: {}",
            clashes.len(),
            clashes.join("; ")
        )
    })
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let rows = rows(manager).await?;
        let keyed: Vec<(String, &Row)> = rows.iter().map(|row| (instance_key(&row.instance_id), row)).collect();
        if let Some(message) = collisions(&keyed) {
            return Err(DbErr::Migration(message));
        }
        // Nullable: SQLite cannot add a NOT NULL column without a default; the service always writes it.
        manager
            .alter_table(
                Table::alter()
                    .table(PbxProfiles::Table)
                    .add_column(string_len_null(PbxProfiles::InstanceKey, 64))
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        for (key, row) in &keyed {
            let update = Query::update()
                .table(PbxProfiles::Table)
                .value(PbxProfiles::InstanceKey, key.as_str())
                .and_where(Expr::col(PbxProfiles::Id).eq(row.id))
                .to_owned();
            connection.execute(&update).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(NEW_INDEX)
                    .table(PbxProfiles::Table)
                    .col(PbxProfiles::PbxType)
                    .col(PbxProfiles::InstanceKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(OLD_INDEX).table(PbxProfiles::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(OLD_INDEX)
                    .table(PbxProfiles::Table)
                    .col(PbxProfiles::PbxType)
                    .col(PbxProfiles::InstanceId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(NEW_INDEX).table(PbxProfiles::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(PbxProfiles::Table).drop_column(PbxProfiles::InstanceKey).to_owned())
            .await
    }
}
