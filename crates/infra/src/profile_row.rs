//! The columns a profile's content fills, as the repository and the queries write them.

/// The columns a profile's content fills (all but id, customer, creation time and version).
pub(crate) struct Content {
    pub(crate) pbx_type: String,
    pub(crate) instance_id: String,
    pub(crate) instance_key: String,
    pub(crate) name: String,
    pub(crate) country_code: String,
    pub(crate) enabled: bool,
    pub(crate) settings: serde_json::Value,
    pub(crate) secrets: String,
}
