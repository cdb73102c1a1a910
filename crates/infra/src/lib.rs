//! # pbx-infra
//!
//! The outbound adapters of the PBX profile service: SeaORM repositories for SQLite, PostgreSQL and
//! MySQL/MariaDB, their migrations, and the AES-256-GCM cipher that keeps secrets encrypted at rest.

mod account_repository;
pub mod checks;
mod connection_store;
pub mod crypto;
mod customer_repository;
pub mod data_dir;
pub mod database;
mod db_error;
mod delivery_store;
mod entity;
mod event_log;
#[cfg(feature = "test-support")]
pub mod fakes;
mod group_commit;
mod idempotency_store;
mod instance_key;
pub mod key_file;
pub mod migration;
pub mod nats;
pub mod outbound;
mod outbox;
mod pbx;
pub mod plans;
mod profile_row;
mod queries;
pub mod rotation;
pub mod seed;
#[cfg(feature = "test-support")]
pub mod testing;
mod unit_of_work;
mod wakeup;
mod webhook_repository;
mod webhook_sender;

pub use account_repository::SeaOrmAccountRepository;
pub use connection_store::SeaOrmConnectionStore;
pub use crypto::SecretCipher;
pub use customer_repository::SeaOrmCustomerRepository;
pub use database::{Database, PoolSettings};
pub use delivery_store::SeaOrmDeliveryStore;
pub use event_log::SeaOrmEventLog;
pub use idempotency_store::SeaOrmIdempotencyStore;
pub use pbx::SeaOrmPbxRepository;
pub use webhook_repository::{SeaOrmWebhookRepository, SystemResolver};
pub use webhook_sender::HttpSender;
