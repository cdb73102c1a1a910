//! The pipelined floor of `make bench`: bench/floor.rs's statements and answers on `tokio-postgres` instead of
//! sqlx. Each connection is one client whose concurrent queries are pipelined (sent without waiting for the answers
//! before them), every statement prepared once per connection; a request takes the connection with the fewest
//! queries in flight (the first of them: at one client at a time, always the same warm connection). Reads go to
//! `FLOOR_READ_CLIENTS` connections (4 by default: reads only cost CPU, and fewer connections pipeline deeper), writes
//! to `FLOOR_WRITE_CLIENTS` (16, the service's pool: a write waits for its commit's flush, and more connections let
//! PostgreSQL flush many commits at once) — the best of each measured in docs/performance.md run 25. The strongest
//! simple server for this work on PostgreSQL: what separates bench/floor.rs from it is the driver and its pool.
//!
//! Usage: `pipelined_floor <postgres-url> <reseller-guid>`; prints `floor listening on http://…` once bound. Built
//! only with the `pipelined-floor` feature (`cargo build --release -p pbx-server --example pipelined_floor
//! --features pipelined-floor`), so that `tokio-postgres` is compiled for the benchmark alone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;
use tokio_postgres::{Client, NoTls, Statement};
use uuid::Uuid;

#[path = "floor_sql.rs"]
mod sql;
use sql::{CREATE, DELETE, GET, NewKazoo, RENAME, SECRET, Stored, arguments, new_name, routes, stored, with_event};

/// One connection, its prepared statements and its queries in flight.
struct Connection {
    client: Client,
    in_flight: AtomicUsize,
    create: Statement,
    get: Statement,
    rename: Statement,
    delete: Statement,
}

struct State {
    reads: Vec<Connection>,
    writes: Vec<Connection>,
    reseller: Uuid,
}

/// A connection taken for one query: its count in flight until dropped.
struct Taken<'a>(&'a Connection);

impl std::ops::Deref for Taken<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The connection of `connections` with the fewest queries in flight (the first of those).
fn take(connections: &[Connection]) -> Taken<'_> {
    let mut best = &connections[0];
    for connection in &connections[1..] {
        if connection.in_flight.load(Ordering::Relaxed) < best.in_flight.load(Ordering::Relaxed) {
            best = connection;
        }
    }
    best.in_flight.fetch_add(1, Ordering::Relaxed);
    Taken(best)
}

async fn connect(url: &str) -> Result<Connection, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("a floor connection ended: {e}");
        }
    });
    Ok(Connection {
        create: client.prepare(with_event(CREATE)).await?,
        get: client.prepare(GET).await?,
        rename: client.prepare(with_event(RENAME)).await?,
        delete: client.prepare(with_event(DELETE)).await?,
        client,
        in_flight: AtomicUsize::new(0),
    })
}

async fn create(path: web::Path<Uuid>, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let Some(new) = NewKazoo::parse(&body) else { return HttpResponse::BadRequest().finish() };
    let (id, customer) = (Uuid::now_v7(), *path);
    let connection = take(&state.writes);
    let row = connection
        .client
        .query_opt(
            &connection.create,
            &[
                &id,
                &customer,
                &new.instance,
                &new.instance_key,
                &new.name,
                &new.settings,
                &SECRET,
                &state.reseller,
                &new.event,
            ],
        )
        .await;
    match row {
        Ok(Some(row)) => HttpResponse::Created().json(new.answer(id, customer, row.get(0))),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
            HttpResponse::Conflict().finish()
        }
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

async fn get(path: web::Path<(Uuid, Uuid)>, state: web::Data<State>) -> HttpResponse {
    let (customer, id) = *path;
    let connection = take(&state.reads);
    match connection.client.query_opt(&connection.get, &[&id, &customer, &state.reseller]).await {
        Ok(Some(row)) => HttpResponse::Ok().json(stored!(row).answer()),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// `PATCH …/pbxs/{id}` with a JSON Patch whose first operation replaces `/name`.
async fn rename(path: web::Path<(Uuid, Uuid)>, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let (customer, id) = *path;
    let Some(name) = new_name(&body) else { return HttpResponse::BadRequest().finish() };
    let connection = take(&state.writes);
    match connection.client.query_opt(&connection.rename, &[&name, &id, &customer, &state.reseller]).await {
        Ok(Some(row)) => HttpResponse::Ok().json(stored!(row).answer()),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// `DELETE …/pbxs/{id}`.
async fn delete(path: web::Path<(Uuid, Uuid)>, state: web::Data<State>) -> HttpResponse {
    let (customer, id) = *path;
    let connection = take(&state.writes);
    match connection.client.query_opt(&connection.delete, &[&id, &customer, &state.reseller]).await {
        Ok(Some(_)) => HttpResponse::Ok().json(json!({"data": null, "status": "success"})),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// The number of connections that `variable` gives (`default` without it), connected.
async fn connections(url: &str, variable: &str, default: usize) -> std::io::Result<Vec<Connection>> {
    let count = std::env::var(variable).ok().and_then(|n| n.parse().ok()).unwrap_or(default).max(1);
    let mut connections = Vec::with_capacity(count);
    for _ in 0..count {
        connections.push(connect(url).await.map_err(std::io::Error::other)?);
    }
    Ok(connections)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (url, reseller) = arguments("pipelined_floor")?;
    let started = Instant::now();
    let reads = connections(&url, "FLOOR_READ_CLIENTS", 4).await?;
    let writes = connections(&url, "FLOOR_WRITE_CLIENTS", 16).await?;
    let state = web::Data::new(State { reads, writes, reseller });
    let server = HttpServer::new(move || routes!(App::new().app_data(state.clone()))).bind("127.0.0.1:0")?;
    let address = server.addrs()[0];
    println!("floor listening on http://{address} ({} ms)", started.elapsed().as_millis());
    server.run().await
}
