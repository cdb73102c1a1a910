//! The change feed on the wire: events show resources as a get does ([`EventRender`]). The events themselves are
//! `pbx_domain::events`' types, which describe their own schemas (a collector reads them with the same types).

use pbx_application::Render;
use pbx_domain::{Customer, PbxProfile, Withheld};
use serde_json::Value;

use super::customer::CustomerView;
use super::profile::{ProfileView, Secrets};

/// Shows resources in events exactly as the get of each shows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventRender;

impl Render for EventRender {
    fn customer(&self, customer: &Customer) -> Value {
        serde_json::to_value(CustomerView::new(customer)).unwrap_or(Value::Null)
    }

    fn profile(&self, profile: &PbxProfile<Withheld>) -> Value {
        serde_json::to_value(ProfileView::new(profile, Secrets::Hidden, &[], None)).unwrap_or(Value::Null)
    }
}
