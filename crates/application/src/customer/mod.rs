//! Customers of a reseller: the draft as clients send it, and the use cases.

mod create;
mod delete;
mod draft;
mod fields;
mod get;
mod list;
mod patch;

pub use create::{CreateCustomer, CreateCustomerCommand, CreateCustomerError};
pub use delete::{DeleteCustomer, DeleteCustomerError};
pub use draft::CustomerDraft;
pub use get::{GetCustomer, GetCustomerError};
pub use list::ListCustomers;
pub use patch::{PatchCustomer, PatchCustomerCommand, PatchCustomerError};
