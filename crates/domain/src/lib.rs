//! # pbx-domain
//!
//! The types of the PBX profile service: customers of a reseller and the connection profiles of their phone
//! systems (Kazoo, 3CX). Every value is parsed once, at the edge, into a type that cannot hold an invalid value
//! ("parse, don't validate"): an invalid profile cannot be constructed.
//!
//! The crate has no framework, database or HTTP dependency; enable the `serde` feature to (de)serialise the value
//! types as their canonical strings, and for [`events`], the change feed's types.
//!
//! ```
//! use pbx_domain::{
//!     CountryCode, CustomerId, PbxId, PbxProfile, ProfileName,
//!     kazoo::{AccountId, KazooConnection},
//!     HttpUrl, Secret, WsUrl,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let connection = KazooConnection {
//!     host_rest: HttpUrl::parse("https://rest.example.com")?,
//!     host_websocket: WsUrl::parse("wss://ws.example.com")?,
//!     account_id: AccountId::parse("12345")?,
//!     api_key: Secret::parse("ABCDEF")?,
//!     monitor_sub_accounts: false,
//! };
//! let profile = PbxProfile::new(
//!     PbxId::parse("0190f5a4-7a4e-7b7e-9a52-6f1f0e0c1d2e")?,
//!     CustomerId::parse("5B2A2D4C-6F3E-4C8B-9D7A-1E2F3A4B5C6D")?,
//!     ProfileName::parse("Clients Kazoo Pbx")?,
//!     CountryCode::parse("US")?,
//!     connection.into(),
//! );
//! assert!(!profile.enabled);
//! assert_eq!(profile.instance_id().value(), "12345");
//! assert_eq!(profile.customer_id.to_string(), "5b2a2d4c-6f3e-4c8b-9d7a-1e2f3a4b5c6d");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod account;
pub mod address;
#[cfg(feature = "serde")]
pub mod connection;
mod country;
mod customer;
#[cfg(feature = "serde")]
pub mod events;
mod ids;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod pbx;
mod secret;
mod text;
mod timespan;
mod timezone;
mod urls;
#[cfg(feature = "serde")]
pub mod webhook;

pub use account::{Account, AccountDetails};
pub use country::{CountryCode, CountryCodeError};
pub use customer::{
    Customer, CustomerName, CustomerOptions, Features, NewCustomer, OptionError, OptionalText, TenantProfileType,
    TrialDays,
};
pub use ids::{CustomerId, IdError, PbxId, ResellerId, WebhookId};
pub use pbx::*;
pub use secret::{Secret, SecretEdit, SecretError, Withheld};
pub use text::{TextError, is_control_or_format};
pub use timespan::{TimeSpan, TimeSpanError};
pub use timezone::{Timezone, TimezoneError};
pub use urls::{HttpUrl, UrlError, WsUrl};
