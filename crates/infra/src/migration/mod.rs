//! The schema, as an ordered list of migrations run at start and by `pbx-server migrate`.

mod m20261126_000001_initial;
mod m20261126_000002_versions;
mod m20261127_000003_idempotency_keys;
mod m20261127_000004_instance_keys;
mod m20261128_000005_accounts;
mod m20261128_000006_customer_options;
mod m20261129_000007_events;
mod m20261201_000008_event_numbers;
mod m20261202_000009_deleted_accounts;
mod m20261202_000010_webhooks;
mod m20261202_000011_webhook_deliveries;
mod m20261203_000012_webhook_failures;
mod m20261206_000013_webhook_owners;
mod m20261207_000014_pbx_connections;
mod m20261207_000015_keys_with_their_creates;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Every migration, oldest first. Never edit one that has shipped: add a new one.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial::Migration),
            Box::new(m20261126_000002_versions::Migration),
            Box::new(m20261127_000003_idempotency_keys::Migration),
            Box::new(m20261127_000004_instance_keys::Migration),
            Box::new(m20261128_000005_accounts::Migration),
            Box::new(m20261128_000006_customer_options::Migration),
            Box::new(m20261129_000007_events::Migration),
            Box::new(m20261201_000008_event_numbers::Migration),
            Box::new(m20261202_000009_deleted_accounts::Migration),
            Box::new(m20261202_000010_webhooks::Migration),
            Box::new(m20261202_000011_webhook_deliveries::Migration),
            Box::new(m20261203_000012_webhook_failures::Migration),
            Box::new(m20261206_000013_webhook_owners::Migration),
            Box::new(m20261207_000014_pbx_connections::Migration),
            Box::new(m20261207_000015_keys_with_their_creates::Migration),
        ]
    }
}
