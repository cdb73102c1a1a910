//! `pbx-collector`: an example of a service downstream of pbx-server, reusing its domain crate.
//!
//! It follows the change feed (HTTP long-poll on `GET /api/v1.0/events`, or NATS JetStream with `--nats`), reads
//! the credentials of each profile it starts, and keeps the set of profiles it would be collecting from, printing
//! each `start`, `restart` and `stop`. With `--state FILE` it writes that set and its cursor there after every
//! page (and resumes from it).
//!
//! ```text
//! pbx-collector --url http://127.0.0.1:8080 --token "$COLLECTOR_TOKEN" [--nats nats://127.0.0.1:4222
//!   [--subject 'pbx.events.>']] [--state collector.json]
//! ```
//! The token needs the `collector` scope (`pbx-server token --tenant <guid> --scope collector`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use pbx_domain::events::{Credentials, Event, EventPage, EventType};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the collector is doing, as saved in `--state`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// The cursor of the last event applied (HTTP), or the last event's cursor seen through NATS.
    cursor: Option<String>,
    /// The profiles being collected from: id → customer id.
    collecting: BTreeMap<Uuid, Uuid>,
    /// Profiles deleted: never started again.
    deleted: BTreeSet<Uuid>,
    /// Starts asked for a profile already deleted (must stay 0).
    started_after_delete: u64,
}

struct Args {
    url: String,
    token: String,
    nats: Option<String>,
    subject: String,
    state: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        url: "http://127.0.0.1:8080".to_owned(),
        token: std::env::var("PBX_COLLECTOR_TOKEN").unwrap_or_default(),
        nats: None,
        subject: "pbx.events.>".to_owned(),
        state: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--token" => args.token = value()?,
            "--nats" => args.nats = Some(value()?),
            "--subject" => args.subject = value()?,
            "--state" => args.state = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument {other}; see the crate's documentation"),
        }
    }
    if args.token.is_empty() {
        bail!("--token (or PBX_COLLECTOR_TOKEN) is required: a token with the collector scope");
    }
    Ok(args)
}

struct Collector {
    http: reqwest::Client,
    args: Args,
    state: State,
}

impl Collector {
    /// The credentials of a profile, `None` when it is gone; asked again while the service is unavailable.
    async fn credentials(&self, event: &Event) -> anyhow::Result<Option<Credentials>> {
        #[derive(Deserialize)]
        struct Answer {
            data: Credentials,
        }
        let pbx = event.pbx_id.context("a pbx event without pbxId")?;
        let url = format!("{}/api/v1.0/customers/{}/pbxs/{pbx}/credentials", self.args.url, event.customer_id);
        loop {
            let response = match self.http.get(&url).bearer_auth(&self.args.token).send().await {
                Ok(response) if !response.status().is_server_error() => response,
                Ok(response) => {
                    eprintln!("credentials of {pbx}: {}; retrying", response.status());
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                Err(e) => {
                    eprintln!("credentials of {pbx}: the service is not answering ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            match response.error_for_status()?.json::<Answer>().await {
                Ok(answer) => return Ok(Some(answer.data)),
                Err(e) => eprintln!("credentials of {pbx}: the answer was cut short ({e}); retrying"),
            }
        }
    }

    /// Starts (or restarts) collecting from the event's profile with its current credentials.
    async fn start(&mut self, event: &Event, verb: &str) -> anyhow::Result<()> {
        let pbx = event.pbx_id.context("a pbx event without pbxId")?;
        if self.state.deleted.contains(&pbx) {
            self.state.started_after_delete += 1;
            eprintln!("error: {verb} asked for {pbx}, deleted before");
            return Ok(());
        }
        match self.credentials(event).await? {
            // A collector would connect here with the credentials (never printed).
            Some(_credentials) => {
                self.state.collecting.insert(pbx, event.customer_id);
                println!("{verb} {pbx}");
            }
            // Deleted since: its pbx.deleted comes next.
            None => println!("skip {pbx} (gone)"),
        }
        Ok(())
    }

    fn stop(&mut self, pbx: Uuid) {
        if self.state.collecting.remove(&pbx).is_some() {
            println!("stop {pbx}");
        }
    }

    /// Applies one event, in feed order.
    async fn apply(&mut self, event: &Event) -> anyhow::Result<()> {
        let Some(pbx) = event.pbx_id else { return Ok(()) };
        match event.event_type {
            EventType::PbxCreated | EventType::PbxEnabled
                if event.profile_enabled() == Some(true) && !self.state.collecting.contains_key(&pbx) =>
            {
                self.start(event, "start").await?;
            }
            EventType::PbxUpdated if self.state.collecting.contains_key(&pbx) => {
                self.start(event, "restart").await?;
            }
            EventType::PbxDisabled => self.stop(pbx),
            EventType::PbxDeleted => {
                self.stop(pbx);
                self.state.deleted.insert(pbx);
            }
            _ => {}
        }
        self.state.cursor = Some(event.cursor.clone());
        Ok(())
    }

    fn save(&self) -> anyhow::Result<()> {
        let Some(path) = &self.args.state else { return Ok(()) };
        let partial = path.with_extension("tmp");
        std::fs::write(&partial, serde_json::to_vec_pretty(&self.state)?)?;
        std::fs::rename(&partial, path)?;
        Ok(())
    }

    /// Follows `GET /api/v1.0/events`, waiting up to 10 s a page; rides out the service's restarts.
    async fn follow_http(&mut self) -> anyhow::Result<()> {
        loop {
            let mut url = format!("{}/api/v1.0/events?limit=500&wait=10", self.args.url);
            if let Some(cursor) = &self.state.cursor {
                url.push_str(&format!("&after={cursor}"));
            }
            let response = match self.http.get(&url).bearer_auth(&self.args.token).send().await {
                Ok(response) => response,
                Err(e) => {
                    eprintln!("the service is not answering ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            match response.status() {
                reqwest::StatusCode::GONE => bail!("the cursor is gone: resynchronise from the resources"),
                status if status.is_server_error() => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                _ => {}
            }
            let page: EventPage = match response.error_for_status()?.json().await {
                Ok(page) => page,
                Err(e) => {
                    eprintln!("a page was cut short ({e}); retrying");
                    continue;
                }
            };
            for event in &page.data {
                self.apply(event).await?;
            }
            self.save()?;
        }
    }

    /// Follows the stream `PBX_EVENTS` on NATS JetStream (subjects `--subject`), from its start, in order.
    async fn follow_nats(&mut self, url: &str) -> anyhow::Result<()> {
        let client = async_nats::connect(url).await.context("connecting to NATS")?;
        let jetstream = async_nats::jetstream::new(client);
        let stream = loop {
            match jetstream.get_stream("PBX_EVENTS").await {
                Ok(stream) => break stream,
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await, // the relay creates it
            }
        };
        let consumer = stream
            .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
                filter_subject: self.args.subject.clone(),
                ..Default::default()
            })
            .await?;
        let mut messages = consumer.messages().await?;
        while let Some(message) = messages.next().await {
            let message = message?;
            let event: Event = serde_json::from_slice(&message.payload).context("a message that is not an event")?;
            self.apply(&event).await?;
            self.save()?;
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let state = match &args.state {
        Some(path) if path.exists() => serde_json::from_slice(&std::fs::read(path)?)?,
        _ => State::default(),
    };
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let mut collector = Collector { http, args, state };
    match collector.args.nats.clone() {
        Some(url) => collector.follow_nats(&url).await,
        None => collector.follow_http().await,
    }
}
