//! Fakes of a Kazoo cluster (Crossbar and blackhole) and of an Entra authority on loopback, for the browser test and
//! the benchmark of connection checks (see `pbx_infra::fakes` for what each answers).
//!
//! `cargo run -p pbx-infra --example fake_pbx [seconds]` prints `rest=… ws=… entra=… key=…` on one line, then serves
//! until killed, or for `seconds` when given (so that a script that fails never leaves it behind). `key` is the API
//! key the fake Crossbar accepts (account `acct1`).
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a test tool

use pbx_infra::fakes;

#[tokio::main]
async fn main() {
    let rest = fakes::http(fakes::crossbar).await;
    let ws = fakes::blackhole().await;
    let entra = fakes::http(fakes::entra).await;
    println!("rest={} ws={} entra={} key={}", rest.url, ws.url, entra.url, fakes::key("good"));
    match std::env::args().nth(1).and_then(|s| s.parse().ok()) {
        Some(seconds) => tokio::time::sleep(std::time::Duration::from_secs(seconds)).await,
        None => std::future::pending::<()>().await,
    }
}
