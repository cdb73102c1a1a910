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
use serde_json::json;
use uuid::Uuid;

#[path = "floor_sql.rs"]
mod sql;
use sql::{CREATE, DELETE, GET, NewKazoo, RENAME, SECRET, Stored, arguments, new_name, routes, stored, with_event};

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
    let Some(name) = new_name(&body) else { return HttpResponse::BadRequest().finish() };
    let row = sqlx::query(state.rename)
        .bind(&name)
        .bind(id)
        .bind(customer)
        .bind(state.reseller)
        .fetch_optional(&state.pool)
        .await;
    match row {
        Ok(Some(row)) => HttpResponse::Ok().json(stored!(row).answer()),
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

async fn create(path: web::Path<Uuid>, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let Some(new) = NewKazoo::parse(&body) else { return HttpResponse::BadRequest().finish() };
    let id = Uuid::now_v7();
    let row = sqlx::query(state.create)
        .bind(id)
        .bind(*path)
        .bind(&new.instance)
        .bind(&new.instance_key)
        .bind(&new.name)
        .bind(&new.settings)
        .bind(SECRET)
        .bind(state.reseller)
        .bind(&new.event)
        .fetch_optional(&state.pool)
        .await;
    match row {
        Ok(Some(row)) => HttpResponse::Created().json(new.answer(id, *path, &row.get::<String, _>(0))),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => HttpResponse::Conflict().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn get(path: web::Path<(Uuid, Uuid)>, state: web::Data<State>) -> HttpResponse {
    let (customer, id) = *path;
    let row = sqlx::query(GET).bind(id).bind(customer).bind(state.reseller).fetch_optional(&state.pool).await;
    match row {
        Ok(Some(row)) => HttpResponse::Ok().json(stored!(row).answer()),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (url, reseller) = arguments("floor")?;
    let started = Instant::now();
    // No ping before each acquire (sqlx's default doubles a request's round trips; the service turns it off too).
    let pool_options = || PgPoolOptions::new().test_before_acquire(false);
    let pool = pool_options().max_connections(16).connect(&url).await.map_err(std::io::Error::other)?;
    let state = State::new(pool, reseller);
    let per_worker = std::env::var_os("FLOOR_POOL_PER_WORKER").is_some();
    let connect: PgConnectOptions = url.parse().map_err(std::io::Error::other)?;
    let server = HttpServer::new(move || {
        let state = if per_worker {
            let pool = pool_options().max_connections(8).connect_lazy_with(connect.clone());
            State::new(pool, reseller)
        } else {
            state.clone()
        };
        routes!(App::new().app_data(state))
    })
    .bind("127.0.0.1:0")?;
    let address = server.addrs()[0];
    println!("floor listening on http://{address} ({} ms)", started.elapsed().as_millis());
    server.run().await
}
