//! # pbx-application
//!
//! The use cases of the PBX profile service. Each sits behind ports ([`ports`]): the repositories, a clock and an
//! id generator. Adapters (SeaORM in `pbx-infra`) implement the ports; front ends (actix-web in `pbx-api`) call
//! the use cases. This crate knows neither.

pub mod account;
pub mod connection;
pub mod customer;
pub mod delivery;
pub mod events;
pub mod idempotency;
pub mod pbx;
pub mod ports;
pub mod system;
pub mod timestamp;
mod use_case;
pub mod webhook;

pub use account::{AccountError, AccountMetrics, AccountRepository, Accounts, CustomerProfiles, ProfileFigures};
pub use events::{Audience, EventLog, EventsError, Listener, NewEvent, ReadEvents, Recorder, Render, Visibility, Wake};
pub use ports::{
    Attachment, Clock, CustomerRepository, IdGenerator, InsertPbxError, Page, PbxRepository, PbxSummary,
    ProfileToChange, Readiness, RepositoryError, ShownProfile, Versioned, WriteError,
};
