//! A customer as the API shows it.

use pbx_domain::Customer;
use serde::Serialize;

use crate::timestamp;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomerView<'a> {
    id: String,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    country_code: &'a str,
    timezone: &'a str,
    enabled: bool,
    parent_tenant_id: String,
    date_created: String,
}

impl<'a> CustomerView<'a> {
    pub(crate) fn new(customer: &'a Customer) -> Self {
        let details = &customer.details;
        Self {
            id: customer.id.to_string(),
            name: details.name.as_str(),
            description: details.description.as_ref().map(|t| t.as_str()),
            reference: details.reference.as_ref().map(|t| t.as_str()),
            country_code: details.country_code.as_str(),
            timezone: details.timezone.name(),
            enabled: details.enabled,
            parent_tenant_id: customer.reseller_id.to_string(),
            date_created: timestamp(customer.date_created),
        }
    }
}
