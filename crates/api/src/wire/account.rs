//! An account of the enterprise tier on the wire: a customer's fields, as a tenant above resellers sends them.

use std::sync::LazyLock;

use json_patch::PatchOperation;
use std::collections::BTreeMap;

use pbx_application::AccountMetrics;
use pbx_domain::{Account, AccountDetails, PbxType, ResellerId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::customer::{self, Defaults, DetailFields, TenantView};
use super::field::{Field, FieldProblem, Problems};
use super::patch::{PatchTarget, Rules, patch_document, patch_view};
use super::profile::optional_flag;
use super::{Body, Fields, Guid, parse_body};
use crate::ApiError;

/// Fields of an account that the service sets.
const SET_BY_SERVICE: &[&str] = &["id", "parentTenantId", "dateCreated", "dateDeleted"];

/// A new account: the details of a tenant, as a customer has them (without a customer's options).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewAccount)]
pub(crate) struct AccountBody {
    #[serde(default)]
    #[schema(schema_with = customer::name, required = true)]
    name: Field<String>,
    #[serde(default)]
    #[schema(schema_with = customer::description)]
    description: Field<String>,
    #[serde(default)]
    #[schema(schema_with = customer::reference)]
    reference: Field<String>,
    #[serde(default)]
    #[schema(schema_with = customer::country_code)]
    country_code: Field<String>,
    #[serde(default)]
    #[schema(schema_with = customer::timezone)]
    timezone: Field<String>,
    /// Whether the account is active (false when absent).
    #[serde(default)]
    #[schema(schema_with = optional_flag)]
    enabled: Field<bool>,
}

impl Body for AccountBody {
    const KIND: &'static str = "an account";
    const SET_BY_SERVICE: &'static [&'static str] = SET_BY_SERVICE;
    fn fields() -> &'static Fields {
        static FIELDS: LazyLock<Fields> = LazyLock::new(Fields::of::<AccountBody>);
        &FIELDS
    }
}

/// The account a body describes.
///
/// # Errors
/// Every broken field, then every field an account does not have.
pub(crate) fn parse(object: Map<String, Value>) -> Result<AccountDetails, Vec<FieldProblem>> {
    parse_body(object, |body: AccountBody| {
        let mut problems = Problems::default();
        let AccountBody { name, description, reference, country_code, timezone, enabled } = body;
        let fields = DetailFields { name, description, reference, country_code, timezone, enabled };
        let details = fields.parse(Defaults::default(), &mut problems);
        problems.or_build(|| details)
    })
}

/// What a patch may do to an account's fields.
fn rules() -> Rules<'static> {
    Rules { kind: AccountBody::KIND, fields: AccountBody::fields(), read_only: SET_BY_SERVICE, writable: &[] }
}

/// What `operations` make of `current`: its view patched, then read back as the body of a create.
///
/// # Errors
/// 400 listing every operation that cannot apply or every problem of the patched account; 409 for a failed `test`.
pub(crate) fn patched(current: &Account, operations: Vec<PatchOperation>) -> Result<AccountDetails, ApiError> {
    parse(patch_view(AccountView::new(current), operations, &rules())?).map_err(ApiError::Invalid)
}

patch_document!(
    /// A JSON Patch document for an account.
    AccountPatch,
    "AccountPatch",
    PatchTarget::of::<AccountBody>(&rules(), &[])
);

/// An account: a reseller tenant under the caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Account)]
pub(crate) struct AccountView<'a> {
    #[serde(flatten)]
    tenant: TenantView<'a>,
    /// Always null: a deleted account is gone (404).
    #[schema(value_type = Option<String>)]
    date_deleted: Option<String>,
}

impl<'a> AccountView<'a> {
    pub(crate) fn new(account: &'a Account) -> Self {
        let tenant = TenantView::of(account.id.to_string(), &account.details, account.parent, account.date_created);
        Self { tenant, date_deleted: None }
    }
}

/// An account's figures.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AccountMetrics)]
pub(crate) struct MetricsView<'a> {
    #[schema(value_type = Guid)]
    account_id: String,
    /// Its customers.
    customers: u64,
    /// Those enabled.
    enabled_customers: u64,
    pbxs: ProfileCounts,
    /// A page of its customers, oldest first, with their profiles; only for a token with `customers:read` and
    /// `pbxs:read` besides `accounts:read` (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    items: Option<Vec<CustomerItem<'a>>>,
}

/// The account's profiles, counted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileCounts {
    total: u64,
    enabled: u64,
    /// Profiles by type's short name (`Kazoo`, `3CX`, …; each present, 0 when none).
    #[schema(value_type = BTreeMap<String, u64>)]
    by_type: BTreeMap<&'static str, u64>,
}

/// A customer in the metrics.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomerItem<'a> {
    #[schema(value_type = Guid)]
    customer_id: String,
    name: &'a str,
    enabled: bool,
    pbxs: Vec<ProfileItem<'a>>,
}

/// A profile in the metrics: no connection detail, no secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileItem<'a> {
    #[schema(value_type = Guid)]
    id: String,
    /// The type's short name: `Kazoo`, `3CX`, …
    #[schema(example = "Kazoo")]
    pbx_type: &'static str,
    instance_id: &'a str,
    name: &'a str,
    enabled: bool,
    /// Kazoo: whether sub-accounts are monitored; null for other types.
    monitor_sub_accounts: Option<bool>,
}

impl<'a> MetricsView<'a> {
    pub(crate) fn new(account: ResellerId, metrics: &'a AccountMetrics, with_items: bool) -> Self {
        let mut by_type: BTreeMap<&'static str, u64> = PbxType::ALL.iter().map(|t| (t.short_name(), 0)).collect();
        let (mut total, mut enabled) = (0, 0);
        for (pbx_type, is_enabled, count) in &metrics.profiles {
            *by_type.entry(pbx_type.short_name()).or_default() += count;
            total += count;
            if *is_enabled {
                enabled += count;
            }
        }
        let items = metrics
            .items
            .iter()
            .map(|customer| CustomerItem {
                customer_id: customer.customer_id.to_string(),
                name: &customer.name,
                enabled: customer.enabled,
                pbxs: customer
                    .profiles
                    .iter()
                    .map(|p| ProfileItem {
                        id: p.id.to_string(),
                        pbx_type: p.pbx_type.short_name(),
                        instance_id: &p.instance_id,
                        name: &p.name,
                        enabled: p.enabled,
                        monitor_sub_accounts: p.monitor_sub_accounts,
                    })
                    .collect(),
            })
            .collect();
        Self {
            account_id: account.to_string(),
            customers: metrics.customers,
            enabled_customers: metrics.enabled_customers,
            pbxs: ProfileCounts { total, enabled, by_type },
            items: with_items.then_some(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::object;
    use serde_json::json;

    #[test]
    fn an_account_has_a_customers_fields_and_its_own_messages() {
        let details = parse(object(json!({"name": "Brand", "countryCode": "fr"}))).unwrap();
        assert_eq!(details.country_code.as_str(), "FR");
        let problems = parse(object(json!({"name": "Brand", "dateDeleted": null, "colour": "red"}))).unwrap_err();
        let messages: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.message.as_str())).collect();
        assert_eq!(
            messages,
            [("colour", "is not a field of an account"), ("dateDeleted", "is set by the service and cannot be sent")]
        );
    }
}
