//! A stored customer as the fields a client sends and sees, for JSON Patch.

use std::collections::BTreeMap;

use pbx_domain::Customer;

use super::CustomerDraft;
use crate::input::Raw;
use crate::patch::Rules;
use crate::wire::timestamp;

/// Fields the service sets, which a patch may only `test`.
const READ_ONLY: [&str; 3] = ["id", "parentTenantId", "dateCreated"];
/// Fields a patch may `remove` (they take their default).
const REMOVABLE: [&str; 5] = ["description", "reference", "countryCode", "timezone", "enabled"];

/// Every field of `customer`.
pub(crate) fn of(customer: &Customer) -> BTreeMap<String, Raw> {
    let details = &customer.details;
    let mut fields = vec![
        ("id", Raw::Text(customer.id.to_string())),
        ("parentTenantId", Raw::Text(customer.reseller_id.to_string())),
        ("dateCreated", Raw::Text(timestamp(customer.date_created))),
        ("name", Raw::Text(details.name.to_string())),
        ("countryCode", Raw::Text(details.country_code.to_string())),
        ("timezone", Raw::Text(details.timezone.to_string())),
        ("enabled", Raw::Bool(details.enabled)),
    ];
    if let Some(description) = &details.description {
        fields.push(("description", Raw::Text(description.as_str().to_owned())));
    }
    if let Some(reference) = &details.reference {
        fields.push(("reference", Raw::Text(reference.as_str().to_owned())));
    }
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// What a patch may do to a customer.
pub(crate) fn rules() -> Rules<'static> {
    let mut known: Vec<&'static str> = READ_ONLY.to_vec();
    known.extend(CustomerDraft::FIELDS);
    Rules { kind: "a customer", known, read_only: &READ_ONLY, removable: &REMOVABLE, secret: &[] }
}

/// The draft `fields` describe (the read-only fields are dropped: a patch cannot have changed them).
pub(crate) fn draft(fields: BTreeMap<String, Raw>) -> CustomerDraft {
    let mut draft = CustomerDraft::default();
    for (field, value) in fields {
        if !READ_ONLY.contains(&field.as_str()) {
            draft.set(&field, value);
        }
    }
    draft
}
