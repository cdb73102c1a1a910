//! Customers of a reseller: the draft as clients send it, and the use cases.

mod create;
mod draft;
mod get;

pub use create::{CreateCustomer, CreateCustomerCommand, CreateCustomerError};
pub use draft::CustomerDraft;
pub use get::{GetCustomer, GetCustomerError};
