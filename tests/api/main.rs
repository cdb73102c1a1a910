//! Black-box tests: each starts the compiled `pbx-server` binary in a fresh temporary data folder, on a free port,
//! and speaks HTTP to it, as a reseller's script would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod accounts;
mod auth;
mod bad_input;
mod connection;
mod crash;
mod create_pbx;
mod customers;
mod envelope;
mod events;
mod exactness;
mod health;
mod helpers;
mod idempotency;
mod isolation;
mod openapi;
mod operability;
mod outage;
mod overload;
mod patch_schema;
mod persistence;
mod portal;
mod profiles;
mod replicas;
mod security;
mod seed;
mod teams;
mod webhooks;
