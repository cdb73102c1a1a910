//! SeaORM entities: the rows as stored. They never leave this crate; repositories map them to domain types.

pub(crate) mod account;
pub(crate) mod customer;
pub(crate) mod idempotency_key;
pub(crate) mod pbx_connection;
pub(crate) mod pbx_event;
pub(crate) mod pbx_profile;
pub(crate) mod webhook;
pub(crate) mod webhook_delivery;
