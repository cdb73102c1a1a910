//! The floor of `make bench`: the least a server on the service's own stack (actix-web, sqlx's PostgreSQL driver, a
//! pool of the service's default size, one worker per core) can do for a create, a get, a rename and a delete, to
//! measure the service against. One prepared statement per request — for a create, an `INSERT … SELECT … FROM
//! customers` that checks the customer is the reseller's and writes the row; for a rename or a delete the same check
//! and the write; each with its change feed event in the same statement (a data-modifying CTE, numbered as the
//! service numbers events); for a get, the service's own visible-profile query — and JSON out. No authentication,
//! validation, encryption, logs or metrics.
//!
//! Usage: `floor <postgres-url> <reseller-guid>`; prints `floor listening on http://…` once bound. With
//! `FLOOR_POOL_PER_WORKER` set, each HTTP worker has a pool of its own (8 connections) instead of sharing one, so
//! that a query's socket is polled by the worker that sent it: the experiment of docs/performance.md's run 10.

use std::time::Instant;

use actix_web::{App, HttpResponse, HttpServer, web};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sea_orm::sqlx::{self, Row};
use serde_json::{Value, json};
use uuid::Uuid;

struct State {
    pool: PgPool,
    reseller: Uuid,
    create: &'static str,
    rename: &'static str,
    delete: &'static str,
}

impl State {
    fn new(pool: PgPool, reseller: Uuid) -> web::Data<Self> {
        web::Data::new(Self {
            pool,
            reseller,
            create: with_event(CREATE),
            rename: with_event(RENAME),
            delete: with_event(DELETE),
        })
    }
}

/// `PATCH …/pbxs/{id}` with a JSON Patch whose first operation replaces `/name`.
async fn rename(path: web::Path<(Uuid, Uuid)>, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let (customer, id) = *path;
    let Ok(patch) = serde_json::from_slice::<Value>(&body) else { return HttpResponse::BadRequest().finish() };
    let Some(name) = patch[0]["value"].as_str() else { return HttpResponse::BadRequest().finish() };
    let row = sqlx::query(state.rename)
        .bind(name)
        .bind(id)
        .bind(customer)
        .bind(state.reseller)
        .fetch_optional(&state.pool)
        .await;
    match row {
        Ok(Some(row)) => {
            let mut settings: Value = row.get("settings");
            settings["id"] = json!(id);
            settings["name"] = json!(row.get::<String, _>("name"));
            settings["accountId"] = json!(row.get::<String, _>("instance_id"));
            settings["enabled"] = json!(row.get::<bool, _>("enabled"));
            HttpResponse::Ok().json(json!({"data": settings, "status": "success"}))
        }
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// `DELETE …/pbxs/{id}`.
async fn delete(path: web::Path<(Uuid, Uuid)>, state: web::Data<State>) -> HttpResponse {
    let (customer, id) = *path;
    let row = sqlx::query(state.delete).bind(id).bind(customer).bind(state.reseller).fetch_optional(&state.pool).await;
    match row {
        Ok(Some(_)) => HttpResponse::Ok().json(json!({"data": null, "status": "success"})),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// The event's columns, numbered as the service numbers them on PostgreSQL (transaction id << 20).
const EVENT: &str = "INSERT INTO pbx_events (seq, id, event_type, occurred_at, reseller_id, customer_id, pbx_id, \
                     actor_tenant_id, actor_subject, changed, data) \
                     SELECT pg_current_xact_id()::text::bigint * 1048576, gen_random_uuid()";

/// A create and its `pbx.created` event, in one statement.
const CREATE: &str = "WITH w AS (INSERT INTO pbx_profiles (id, customer_id, pbx_type, instance_id, instance_key, name, \
                      country_code, enabled, settings, secrets, created_at, version) \
                      SELECT $1, c.id, 'KazooPbxConnectionProfile', $3, $4, $5, c.country_code, false, $6, $7, now(), 1 \
                      FROM customers c WHERE c.id = $2 AND c.reseller_id = $8 RETURNING id, customer_id, country_code), \
                      e AS (EVENT_ROW, 'pbx.created', now(), $8, w.customer_id, w.id, $8, 'floor', NULL, \
                      jsonb_set(CAST($9 AS jsonb), '{countryCode}', to_jsonb(w.country_code)) FROM w) \
                      SELECT country_code FROM w";

/// A rename and its `pbx.updated` event, in one statement.
const RENAME: &str = "WITH w AS (UPDATE pbx_profiles SET name = $1, version = version + 1 WHERE id = $2 AND \
                      customer_id = $3 AND customer_id IN (SELECT id FROM customers WHERE id = $3 AND reseller_id = $4) \
                      RETURNING id, customer_id, pbx_type, instance_id, name, country_code, enabled, settings, version), \
                      e AS (EVENT_ROW, 'pbx.updated', now(), $4, w.customer_id, w.id, $4, 'floor', '[\"name\"]', \
                      jsonb_build_object('name', w.name, 'accountId', w.instance_id) FROM w) SELECT * FROM w";

/// A delete and its `pbx.deleted` event, in one statement.
const DELETE: &str = "WITH w AS (DELETE FROM pbx_profiles WHERE id = $1 AND customer_id = $2 AND customer_id IN \
                      (SELECT id FROM customers WHERE id = $2 AND reseller_id = $3) RETURNING id, customer_id), \
                      e AS (EVENT_ROW, 'pbx.deleted', now(), $3, w.customer_id, w.id, $3, 'floor', NULL, NULL FROM w) \
                      SELECT id FROM w";

/// The statement with its event's insert, built once (a `'static` text, as sqlx wants a statement's).
fn with_event(statement: &str) -> &'static str {
    Box::leak(statement.replace("EVENT_ROW", EVENT).into_boxed_str())
}

const GET: &str = "SELECT id, customer_id, pbx_type, instance_id, name, country_code, enabled, settings, version \
                   FROM pbx_profiles WHERE id = $1 AND customer_id = $2 AND customer_id IN \
                   (SELECT id FROM customers WHERE id = $2 AND reseller_id = $3) LIMIT 1";

async fn create(path: web::Path<Uuid>, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let Ok(mut profile) = serde_json::from_slice::<Value>(&body) else { return HttpResponse::BadRequest().finish() };
    let instance = profile["accountId"].as_str().unwrap_or_default().to_owned();
    let id = Uuid::now_v7();
    let settings = json!({"hostRest": profile["hostRest"], "hostWebsocket": profile["hostWebsocket"]});
    let event = json!({"name": profile["name"], "accountId": instance, "_type": "KazooPbxConnectionProfile"});
    let row = sqlx::query(state.create)
        .bind(id)
        .bind(*path)
        .bind(&instance)
        .bind(instance.to_lowercase())
        .bind(profile["name"].as_str().unwrap_or_default())
        .bind(settings)
        .bind("v1:00000000:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .bind(state.reseller)
        .bind(event)
        .fetch_optional(&state.pool)
        .await;
    match row {
        Ok(Some(row)) => {
            profile["id"] = json!(id);
            profile["tenantId"] = json!(*path);
            profile["countryCode"] = json!(row.get::<String, _>(0));
            profile["enabled"] = json!(false);
            HttpResponse::Created().json(json!({"data": profile, "status": "success"}))
        }
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => HttpResponse::Conflict().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn get(path: web::Path<(Uuid, Uuid)>, state: web::Data<State>) -> HttpResponse {
    let (customer, id) = *path;
    let row = sqlx::query(GET).bind(id).bind(customer).bind(state.reseller).fetch_optional(&state.pool).await;
    match row {
        Ok(Some(row)) => {
            let mut settings: Value = row.get("settings");
            settings["id"] = json!(row.get::<Uuid, _>("id"));
            settings["tenantId"] = json!(row.get::<Uuid, _>("customer_id"));
            settings["_type"] = json!(row.get::<String, _>("pbx_type"));
            settings["accountId"] = json!(row.get::<String, _>("instance_id"));
            settings["name"] = json!(row.get::<String, _>("name"));
            settings["countryCode"] = json!(row.get::<String, _>("country_code"));
            settings["enabled"] = json!(row.get::<bool, _>("enabled"));
            HttpResponse::Ok().json(json!({"data": settings, "status": "success"}))
        }
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(reseller)) = (args.next(), args.next()) else {
        eprintln!("usage: floor <postgres-url> <reseller-guid>");
        std::process::exit(2);
    };
    let reseller = Uuid::parse_str(&reseller).map_err(std::io::Error::other)?;
    let started = Instant::now();
    let pool = PgPoolOptions::new().max_connections(16).connect(&url).await.map_err(std::io::Error::other)?;
    let state = State::new(pool, reseller);
    let per_worker = std::env::var_os("FLOOR_POOL_PER_WORKER").is_some();
    let options: PgConnectOptions = url.parse().map_err(std::io::Error::other)?;
    let server = HttpServer::new(move || {
        let state = if per_worker {
            let pool = PgPoolOptions::new().max_connections(8).connect_lazy_with(options.clone());
            State::new(pool, reseller)
        } else {
            state.clone()
        };
        App::new()
            .app_data(state)
            .route("/api/v1.0/customers/{customer}/pbxs", web::post().to(create))
            .route("/api/v1.0/customers/{customer}/pbxs/{id}", web::get().to(get))
            .route("/api/v1.0/customers/{customer}/pbxs/{id}", web::patch().to(rename))
            .route("/api/v1.0/customers/{customer}/pbxs/{id}", web::delete().to(delete))
    })
    .bind("127.0.0.1:0")?;
    let address = server.addrs()[0];
    println!("floor listening on http://{address} ({} ms)", started.elapsed().as_millis());
    server.run().await
}
