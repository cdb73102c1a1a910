//! The statements of `make bench`'s two floors (bench/floor.rs on sqlx, bench/pipelined_floor.rs on tokio-postgres):
//! each change with its change feed event in one statement (a data-modifying CTE, numbered as the service numbers
//! events), and the service's visible-profile read.

/// The event's columns, numbered as the service numbers them on PostgreSQL (transaction id << 20).
const EVENT: &str = "INSERT INTO pbx_events (seq, id, event_type, occurred_at, reseller_id, customer_id, pbx_id, \
                     actor_tenant_id, actor_subject, changed, data) \
                     SELECT pg_current_xact_id()::text::bigint * 1048576, gen_random_uuid()";

/// A create and its `pbx.created` event, in one statement.
pub const CREATE: &str = "WITH w AS (INSERT INTO pbx_profiles (id, customer_id, pbx_type, instance_id, instance_key, name, \
                      country_code, enabled, settings, secrets, created_at, version) \
                      SELECT $1, c.id, 'KazooPbxConnectionProfile', $3, $4, $5, c.country_code, false, $6, $7, now(), 1 \
                      FROM customers c WHERE c.id = $2 AND c.reseller_id = $8 RETURNING id, customer_id, country_code), \
                      e AS (EVENT_ROW, 'pbx.created', now(), $8, w.customer_id, w.id, $8, 'floor', NULL, \
                      jsonb_set(CAST($9 AS jsonb), '{countryCode}', to_jsonb(w.country_code)) FROM w) \
                      SELECT country_code FROM w";

/// A rename and its `pbx.updated` event, in one statement.
pub const RENAME: &str = "WITH w AS (UPDATE pbx_profiles SET name = $1, version = version + 1 WHERE id = $2 AND \
                      customer_id = $3 AND customer_id IN (SELECT id FROM customers WHERE id = $3 AND reseller_id = $4) \
                      RETURNING id, customer_id, pbx_type, instance_id, name, country_code, enabled, settings, version), \
                      e AS (EVENT_ROW, 'pbx.updated', now(), $4, w.customer_id, w.id, $4, 'floor', '[\"name\"]', \
                      jsonb_build_object('name', w.name, 'accountId', w.instance_id) FROM w) SELECT * FROM w";

/// A delete and its `pbx.deleted` event, in one statement.
pub const DELETE: &str = "WITH w AS (DELETE FROM pbx_profiles WHERE id = $1 AND customer_id = $2 AND customer_id IN \
                      (SELECT id FROM customers WHERE id = $2 AND reseller_id = $3) RETURNING id, customer_id), \
                      e AS (EVENT_ROW, 'pbx.deleted', now(), $3, w.customer_id, w.id, $3, 'floor', NULL, NULL FROM w) \
                      SELECT id FROM w";

/// The statement with its event's insert, built once (a `'static` text, as sqlx wants a statement's).
pub fn with_event(statement: &str) -> &'static str {
    Box::leak(statement.replace("EVENT_ROW", EVENT).into_boxed_str())
}

pub const GET: &str = "SELECT id, customer_id, pbx_type, instance_id, name, country_code, enabled, settings, version \
                   FROM pbx_profiles WHERE id = $1 AND customer_id = $2 AND customer_id IN \
                   (SELECT id FROM customers WHERE id = $2 AND reseller_id = $3) LIMIT 1";

/// What a floor's create binds, read from the seed's Kazoo body: the instance, its key, the name, the settings
/// column, a secret of the service's stored length and the event's data.
pub struct NewKazoo {
    pub body: serde_json::Value,
    pub instance: String,
    pub instance_key: String,
    pub name: String,
    pub settings: serde_json::Value,
    pub event: serde_json::Value,
}

/// A stored secret's length, as the service's AES-GCM envelope gives it.
pub const SECRET: &str = "v1:00000000:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

impl NewKazoo {
    pub fn parse(body: &[u8]) -> Option<Self> {
        let body: serde_json::Value = serde_json::from_slice(body).ok()?;
        let instance = body["accountId"].as_str().unwrap_or_default().to_owned();
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        let settings = serde_json::json!({"hostRest": body["hostRest"], "hostWebsocket": body["hostWebsocket"]});
        let event = serde_json::json!({"name": name, "accountId": instance, "_type": "KazooPbxConnectionProfile"});
        Some(Self { instance_key: instance.to_lowercase(), body, instance, name, settings, event })
    }

    /// The create's answer: the body with what the row stored.
    pub fn answer(mut self, id: uuid::Uuid, customer: uuid::Uuid, country_code: &str) -> serde_json::Value {
        self.body["id"] = serde_json::json!(id);
        self.body["tenantId"] = serde_json::json!(customer);
        self.body["countryCode"] = serde_json::json!(country_code);
        self.body["enabled"] = serde_json::json!(false);
        serde_json::json!({"data": self.body, "status": "success"})
    }
}

/// A profile's answer from its stored columns (`settings` the type's own fields).
pub struct Stored {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub pbx_type: String,
    pub instance_id: String,
    pub name: String,
    pub country_code: String,
    pub enabled: bool,
    pub settings: serde_json::Value,
}

impl Stored {
    pub fn answer(self) -> serde_json::Value {
        let mut data = self.settings;
        data["id"] = serde_json::json!(self.id);
        data["tenantId"] = serde_json::json!(self.customer_id);
        data["_type"] = serde_json::json!(self.pbx_type);
        data["accountId"] = serde_json::json!(self.instance_id);
        data["name"] = serde_json::json!(self.name);
        data["countryCode"] = serde_json::json!(self.country_code);
        data["enabled"] = serde_json::json!(self.enabled);
        serde_json::json!({"data": data, "status": "success"})
    }
}

/// The new name of a rename: a JSON Patch whose first operation replaces `/name`.
pub fn new_name(body: &[u8]) -> Option<String> {
    let patch: serde_json::Value = serde_json::from_slice(body).ok()?;
    patch[0]["value"].as_str().map(str::to_owned)
}

/// A profile's answer from a row of the get or rename statement (a sqlx or a tokio-postgres row: both read a column
/// by name with `get`).
macro_rules! stored {
    ($row:expr) => {
        Stored {
            id: $row.get("id"),
            customer_id: $row.get("customer_id"),
            pbx_type: $row.get("pbx_type"),
            instance_id: $row.get("instance_id"),
            name: $row.get("name"),
            country_code: $row.get("country_code"),
            enabled: $row.get("enabled"),
            settings: $row.get("settings"),
        }
    };
}
pub(crate) use stored;

/// A floor's arguments: the PostgreSQL URL and the reseller's id; a usage line naming `program` and exit 2 without
/// them.
pub fn arguments(program: &str) -> std::io::Result<(String, uuid::Uuid)> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(reseller)) = (args.next(), args.next()) else {
        eprintln!("usage: {program} <postgres-url> <reseller-guid>");
        std::process::exit(2);
    };
    Ok((url, uuid::Uuid::parse_str(&reseller).map_err(std::io::Error::other)?))
}

/// The floor's four routes on `app`, served by the `create`, `get`, `rename` and `delete` handlers of the calling
/// floor.
macro_rules! routes {
    ($app:expr) => {
        $app.route("/api/v1.0/customers/{customer}/pbxs", web::post().to(create))
            .route("/api/v1.0/customers/{customer}/pbxs/{id}", web::get().to(get))
            .route("/api/v1.0/customers/{customer}/pbxs/{id}", web::patch().to(rename))
            .route("/api/v1.0/customers/{customer}/pbxs/{id}", web::delete().to(delete))
    };
}
pub(crate) use routes;
