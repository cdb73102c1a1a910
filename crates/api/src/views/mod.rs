//! Answer bodies: domain values shaped as the API shows them. Entities and domain types never serialise
//! themselves onto the wire.

mod customer;
mod pbx;

pub(crate) use customer::CustomerView;
pub(crate) use pbx::{ProfileView, Secrets, SummaryView};
