//! A customer as answers show it (and the `Tenant` fields an account's answer shares).

use pbx_application::PbxSummary;
use pbx_domain::{Customer, NewCustomer};
use serde::Serialize;
use utoipa::ToSchema;

use crate::timestamp;
use crate::wire::Guid;
use crate::wire::profile::SummaryView;

/// A customer of a reseller: its details and its options.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Customer)]
pub(crate) struct CustomerView<'a> {
    #[serde(flatten)]
    tenant: TenantView<'a>,
    features: FeaturesView,
    #[schema(example = "TenantProfileType_analytics")]
    tenant_profile_type: &'a str,
    /// Days of trial (0: none).
    trial_duration: u8,
    sync_acd_agent_with_pbx: bool,
    send_new_user_email: bool,
    send_connect_welcome_email: bool,
    /// Its PBX profiles (summaries): in the answer to a create and to a get of one customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pbx_connection_profiles: Option<Vec<SummaryView<'a>>>,
}

/// Licence counts, each 0 (off) to 100,000; 0 when absent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Features)]
pub(crate) struct FeaturesView {
    #[schema(minimum = 0, maximum = 100_000)]
    agent: u32,
    #[schema(minimum = 0, maximum = 100_000)]
    device: u32,
}

impl<'a> CustomerView<'a> {
    pub(crate) fn new(customer: &'a Customer) -> Self {
        let options = &customer.options;
        Self {
            tenant: TenantView::of(
                customer.id.to_string(),
                &customer.details,
                customer.reseller_id,
                customer.date_created,
            ),
            features: FeaturesView { agent: options.features.agent(), device: options.features.device() },
            tenant_profile_type: options.tenant_profile_type.as_str(),
            trial_duration: options.trial_duration.days(),
            sync_acd_agent_with_pbx: options.sync_acd_agent_with_pbx,
            send_new_user_email: options.send_new_user_email,
            send_connect_welcome_email: options.send_connect_welcome_email,
            pbx_connection_profiles: None,
        }
    }

    /// The view with the customer's profiles.
    pub(crate) fn with_profiles(
        customer: &'a Customer,
        profiles: &'a [PbxSummary],
        checks: &pbx_application::connection::Checks,
    ) -> Self {
        let profiles = profiles.iter().map(|p| SummaryView::new(p, checks)).collect();
        Self { pbx_connection_profiles: Some(profiles), ..Self::new(customer) }
    }
}

/// What a customer and an account show alike: the tenant's details.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Tenant)]
pub(crate) struct TenantView<'a> {
    #[schema(value_type = Guid)]
    id: String,
    #[schema(example = "Acme")]
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    #[schema(example = "US")]
    country_code: &'a str,
    #[schema(example = "UTC")]
    timezone: &'a str,
    enabled: bool,
    /// The reseller's tenant id.
    #[schema(value_type = Guid)]
    parent_tenant_id: String,
    #[schema(value_type = String, example = "2019-11-29T16:03:23.9251680Z")]
    date_created: String,
}

impl<'a> TenantView<'a> {
    /// The view of a tenant `id` with `details`, under `parent`, created at `date_created`.
    pub(crate) fn of(
        id: String,
        details: &'a NewCustomer,
        parent: pbx_domain::ResellerId,
        date_created: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            id,
            name: details.name.as_str(),
            description: details.description.as_ref().map(|t| t.as_str()),
            reference: details.reference.as_ref().map(|t| t.as_str()),
            country_code: details.country_code.as_str(),
            timezone: details.timezone.name(),
            enabled: details.enabled,
            parent_tenant_id: parent.to_string(),
            date_created: timestamp(date_created),
        }
    }
}
