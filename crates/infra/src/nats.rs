//! The relay that publishes the change feed to NATS JetStream: stream `PBX_EVENTS` (created if absent), subject
//! `pbx.events.<resellerId>.<type>`, message id (`Nats-Msg-Id`) the event's id, body the event as the feed shows it.
//!
//! **Once across replicas**: every replica runs a relay, and they take turns through a lease in the database — the
//! relay's position row (`pbx_event_positions`, `nats`), locked `FOR UPDATE SKIP LOCKED` for the time of a batch:
//! one replica publishes a batch and moves the position in the same transaction, the others skip it and wait. **After
//! a crash** the relay resumes from the position stored; a batch published but not yet recorded when the process
//! died is published again, and JetStream drops those repeats by their message id (its duplicate window, two
//! minutes by default). At least once, in order, and no event twice in the stream.

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream;
use pbx_application::events::{Audience, Followed, Found, follow};
use pbx_domain::events::Event;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

use crate::Database;
use crate::outbox::{self, event};
use crate::queries::placeholder;

/// The stream the events go to.
pub const STREAM: &str = "PBX_EVENTS";
/// Events published in one batch (one lease).
const BATCH: u64 = 200;

/// The subject of `event`: `pbx.events.<resellerId>.<type>`.
#[must_use]
pub fn subject(event: &Event) -> String {
    format!("pbx.events.{}.{}", event.reseller_id, event.event_type)
}

/// Publishes the events of `db` to the NATS server at `url` until the task is dropped; reconnects after a failure,
/// waiting 0.5 s, doubled while it fails to reach NATS, up to 10 s — and 0.5 s again once it had reached it (a
/// database failover's errors do not leave it waiting 10 s after NATS restarts).
pub async fn relay(url: String, db: Database) {
    const FIRST_PAUSE: Duration = Duration::from_millis(500);
    let mut pause = FIRST_PAUSE;
    loop {
        let relayed = match connect(&url).await {
            Ok(jetstream) => {
                pause = FIRST_PAUSE;
                run(&jetstream, &db).await
            }
            Err(e) => Err(e),
        };
        match relayed {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), retry_in = ?pause, "the NATS relay stopped; it starts again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// The stream `PBX_EVENTS` on subjects `pbx.events.>`, created if absent (with JetStream's default duplicate
/// window, two minutes).
///
/// # Errors
/// When JetStream refuses.
pub async fn ensure_stream(jetstream: &jetstream::Context) -> anyhow::Result<jetstream::stream::Stream> {
    jetstream
        .get_or_create_stream(jetstream::stream::Config {
            name: STREAM.to_owned(),
            subjects: vec!["pbx.events.>".to_owned()],
            ..Default::default()
        })
        .await
        .context("creating the JetStream stream")
}

/// JetStream at `url`, its stream ensured.
async fn connect(url: &str) -> anyhow::Result<jetstream::Context> {
    let client = async_nats::connect(url).await.context("connecting to NATS")?;
    let jetstream = jetstream::new(client);
    ensure_stream(&jetstream).await?;
    Ok(jetstream)
}

async fn run(jetstream: &jetstream::Context, db: &Database) -> anyhow::Result<()> {
    tracing::info!(stream = STREAM, "relaying the change feed to NATS JetStream");
    // A follower of the whole feed (pbx_application::events::follow): woken by every commit, its place the
    // position stored under the lease.
    loop {
        let followed = follow(
            || db.wakeups().listen(&Audience::All),
            None,
            move || async move {
                let batch = next_batch(jetstream, db).await?;
                Ok::<_, anyhow::Error>(match batch {
                    Batch { published: 0, held_back: true } => Found::HeldBack(None),
                    Batch { published: 0, held_back: false } => Found::Nothing,
                    Batch { published, .. } => Found::Ready(published),
                })
            },
        )
        .await?;
        if followed == Followed::Stopped {
            return Ok(());
        }
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy)]
struct Batch {
    /// Events published.
    published: usize,
    /// Whether events were committed after them that cannot be published yet (PostgreSQL's horizon).
    held_back: bool,
}

/// Publishes the next events after the relay's position, if this replica holds the lease; returns how many.
///
/// # Errors
/// When the database or NATS fails (nothing is recorded as published then).
pub async fn publish_batch(jetstream: &jetstream::Context, db: &Database) -> anyhow::Result<usize> {
    Ok(next_batch(jetstream, db).await?.published)
}

async fn next_batch(jetstream: &jetstream::Context, db: &Database) -> anyhow::Result<Batch> {
    let connection = db.connection();
    let backend = connection.get_database_backend();
    let moved = format!("UPDATE pbx_event_positions SET position = {} WHERE name = 'nats'", placeholder(backend, 1));
    if backend == DbBackend::Sqlite {
        // One process writes an SQLite file: no other replica to take turns with, and the position is written in
        // this process's write turn.
        let position = outbox::position(connection, "nats").await?;
        let (batch, last) = publish(jetstream, connection, position, None).await?;
        if batch.published > 0 {
            db.execute(Statement::from_sql_and_values(backend, moved, [last.into()])).await?;
        }
        return Ok(batch);
    }
    // Before the transaction: its read of the events then sees every event up to the bound, and the counter's shared
    // lock is not held while NATS acknowledges.
    let bound = outbox::settled_bound(connection).await?;
    let transaction = connection.begin().await?;
    let batch = async {
        let lock = "SELECT position FROM pbx_event_positions WHERE name = 'nats' FOR UPDATE SKIP LOCKED";
        let Some(row) = transaction.query_one_raw(Statement::from_string(backend, lock)).await? else {
            // Another replica holds the lease.
            return Ok(Batch { published: 0, held_back: false });
        };
        let position: i64 = row.try_get_by_index(0)?;
        let (batch, last) = publish(jetstream, &transaction, position, bound).await?;
        if batch.published > 0 {
            transaction.execute_raw(Statement::from_sql_and_values(backend, moved, [last.into()])).await?;
        }
        Ok::<Batch, anyhow::Error>(batch)
    }
    .await;
    match batch {
        Ok(batch) if batch.published > 0 => {
            transaction.commit().await?;
            Ok(batch)
        }
        other => {
            let _ = transaction.rollback().await;
            other
        }
    }
}

/// Publishes the events after `position` (a batch), waiting for JetStream's acknowledgements: what it did, and the
/// position after it (`position` when nothing was published).
async fn publish(
    jetstream: &jetstream::Context,
    connection: &impl ConnectionTrait,
    position: i64,
    bound: Option<i64>,
) -> anyhow::Result<(Batch, i64)> {
    let outbox::Rows { settled: rows, held_back } =
        outbox::page(connection, position, BATCH, &Audience::All, bound, outbox::Detail::Whole).await?.rows;
    let Some(last) = rows.last().map(|row| row.seq) else { return Ok((Batch { published: 0, held_back }, position)) };
    let mut acks = Vec::with_capacity(rows.len());
    for row in rows {
        let event = event(row)?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", event.id.to_string().as_str());
        let body = serde_json::to_vec(&event)?;
        acks.push(jetstream.publish_with_headers(subject(&event), headers, body.into()).await?);
    }
    let published = acks.len();
    for ack in acks {
        ack.await.context("JetStream did not acknowledge an event")?;
    }
    tracing::debug!(published, position = last, "events published to NATS");
    Ok((Batch { published, held_back }, last))
}
