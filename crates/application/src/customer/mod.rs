//! Customers of a reseller: the use cases, in domain values.

mod create;
mod delete;
mod get;
mod list;
mod patch;

pub use create::{CreateCustomer, CreateCustomerCommand, CreateCustomerError};
pub use delete::{DeleteCustomer, DeleteCustomerError};
pub use get::{GetCustomer, GetCustomerError};
pub use list::ListCustomers;
pub use patch::{PatchCustomer, PatchCustomerError};
