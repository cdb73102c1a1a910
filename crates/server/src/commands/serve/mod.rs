//! `pbx-server serve` (the default): the composition root — adapters into use cases (`application`), use cases into
//! the HTTP servers (`http`), and a graceful stop.

mod http;

use std::sync::Arc;

use actix_web::web;
use anyhow::Context;
use pbx_api::{ApiSettings, AppState, EventRender, Metrics, RateLimiter};
use pbx_application::connection::{CheckPorts, Checks, Schedule};
use pbx_application::customer::{CreateCustomer, DeleteCustomer, GetCustomer, ListCustomers, PatchCustomer};
use pbx_application::delivery::Deliverer;
use pbx_application::idempotency::IdempotencyKeys;
use pbx_application::pbx::{CreatePbx, DeletePbx, PatchPbx, ReadCredentials, ReadPbxs};
use pbx_application::system::{SystemClock, UuidV7Generator};
use pbx_application::webhook::Webhooks;
use pbx_application::{Accounts, ReadEvents, Recorder};
use pbx_infra::checks::HttpProber;
use pbx_infra::database::{Database, backend_name};
use pbx_infra::{
    HttpSender, SeaOrmAccountRepository, SeaOrmConnectionStore, SeaOrmCustomerRepository, SeaOrmDeliveryStore,
    SeaOrmEventLog, SeaOrmIdempotencyStore, SeaOrmPbxRepository, SeaOrmWebhookRepository, SecretCipher, SystemResolver,
};

use crate::adapters::{authenticator, cipher, database_url, open_database};
use crate::cli::{CommonArgs, ServeArgs};

/// The effective configuration, for the start-up log: no secret, no database URL (it may hold a password).
fn log_configuration(common: &CommonArgs, serve: &ServeArgs) {
    let url = database_url(common);
    tracing::info!(
        bind = %serve.bind,
        data_dir = %common.data_dir.display(),
        config_file = common.config.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        database = backend_name(&url),
        db_max_connections = common.db_max_connections,
        db_acquire_timeout = ?common.db_acquire_timeout,
        db_statement_timeout = ?common.db_statement_timeout,
        tokens = if common.jwks.is_some() { "JWKS" } else { "embedded HS256 key" },
        jwks = common.jwks.as_deref().unwrap_or(""),
        issuer = common.issuer.as_deref().unwrap_or(""),
        audience = common.audience.as_deref().unwrap_or(""),
        tenant_claim = %common.tenant_claim,
        encryption_key = if common.encryption_key.is_some() { "PBX_ENCRYPTION_KEY [REDACTED]" } else { "key file" },
        previous_encryption_keys = common.previous_encryption_keys.len(),
        public_url = serve.public_url.as_deref().unwrap_or("(from the request)"),
        trust_forwarded = serve.trust_forwarded,
        dev_tokens = serve.dev_tokens,
        webhooks_allow_private = serve.webhooks_allow_private,
        pbx_hosts_allow_private = serve.pbx_hosts_allow_private,
        pbx_checks = serve.pbx_checks,
        check_interval = ?serve.check_interval,
        check_concurrency = serve.check_concurrency,
        collector_stale_after = ?serve.collector_stale_after,
        entra_application = serve.entra_client_id().unwrap_or(""),
        entra_authority = %serve.entra_authority,
        body_limit = serve.body_limit,
        rate_limit = serve.rate_limit,
        rate_burst = serve.rate_burst,
        cors_origins = %serve.cors_origins.join(","),
        request_timeout = ?serve.request_timeout,
        keep_alive = ?serve.keep_alive,
        workers = serve.workers.map_or_else(|| "one per CPU core".to_owned(), |n| n.to_string()),
        shutdown_drain = ?serve.shutdown_drain,
        shutdown_grace = ?serve.shutdown_grace,
        metrics = %serve.metrics_bind.map_or_else(|| "with the API".to_owned(), |a| a.to_string()),
        events_retention = ?serve.events_retention,
        nats = serve.nats_url.is_some(),
        "effective configuration"
    );
}

/// `pbx-server serve`: runs until SIGINT or SIGTERM, then lets requests in flight finish.
pub async fn serve(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<()> {
    let stop = shutdown_signal()?;
    log_configuration(common, serve);
    check_dev_tokens(common, serve)?;
    let db = open_database(common).await?;
    let cipher = cipher(common)?;
    let background = Background::start(serve, &db, &cipher)?;
    let state = application(common, serve, &db, &cipher, &background).await?;
    let api = http::ApiServer::start(common, serve, &state)?;
    let metrics = serve.metrics_bind.map(|bind| http::MetricsServer::start(bind, &state)).transpose()?;
    // A plain line on stdout, whatever the log format: scripts and tests wait for it.
    println!("pbx-server listening on http://{}", api.address);
    tracing::info!(address = %api.address, "serving; get a development token with: pbx-server token --tenant <guid>");

    stop.await;
    tracing::info!(drain = ?serve.shutdown_drain, "stopping: draining (readiness 503, no keep-alive)");
    state.draining.store(true, std::sync::atomic::Ordering::Relaxed);
    // Long polls of the change feed answer now, with their cursor, rather than hold the stop for up to 30 s.
    db.stop_waiting_readers();
    tokio::time::sleep(serve.shutdown_drain).await;
    tracing::info!(grace_seconds = serve.shutdown_grace.as_secs(), "stopping: finishing requests in flight");
    api.stop().await?;
    if let Some(metrics) = metrics {
        metrics.stop().await?;
    }
    background.stop();
    db.close().await?;
    tracing::info!("stopped");
    Ok(())
}

/// The work each replica does besides answering requests: its webhook deliveries, the NATS relay, the purges of
/// expired idempotency keys and of events past their retention.
struct Background {
    deliverer: Deliverer,
    checks: Checks,
    log: Arc<SeaOrmEventLog>,
    idempotency: IdempotencyKeys,
    read_events: ReadEvents,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Background {
    /// Starts it over `db`.
    fn start(serve: &ServeArgs, db: &Database, cipher: &SecretCipher) -> anyhow::Result<Self> {
        let (clock, ids) = (Arc::new(SystemClock), Arc::new(UuidV7Generator));
        let idempotency = IdempotencyKeys::new(Arc::new(SeaOrmIdempotencyStore::new(db.clone())), clock.clone());
        let log = Arc::new(SeaOrmEventLog::new(db.clone()));
        let replica = format!("{}-{}", std::process::id(), pbx_application::ports::IdGenerator::new_id(ids.as_ref()));
        let read_events = ReadEvents::new(log.clone(), clock.clone());
        let deliverer = Deliverer::new(
            Arc::new(SeaOrmDeliveryStore::new(db.clone())),
            Arc::new(SeaOrmWebhookRepository::new(db.clone(), cipher.clone())),
            log.clone(),
            Arc::new(HttpSender::new(serve.webhooks_allow_private)?),
            clock,
            replica.clone(),
        );
        let checks = checks(serve, db, cipher, &replica)?;
        let mut tasks = vec![
            tokio::spawn(purge_expired_keys(idempotency.clone())).abort_handle(),
            tokio::spawn(purge_old_events(read_events.clone(), serve.events_retention)).abort_handle(),
            tokio::spawn(deliverer.clone().run()).abort_handle(),
        ];
        if serve.pbx_checks {
            tasks.push(tokio::spawn(checks.clone().follow(log.clone())).abort_handle());
            tasks.push(tokio::spawn(checks.clone().run_periodic()).abort_handle());
            tasks.push(tokio::spawn(checks.clone().work()).abort_handle());
        }
        if let Some(url) = &serve.nats_url {
            tasks.push(tokio::spawn(pbx_infra::nats::relay(url.clone(), db.clone())).abort_handle());
        }
        Ok(Self { deliverer, checks, log, idempotency, read_events, tasks })
    }

    /// Stops it. A delivery cut short is made again (its claim runs out): at least once.
    fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// The use cases over their adapters, and what the API needs besides: the application's state.
async fn application(
    common: &CommonArgs,
    serve: &ServeArgs,
    db: &Database,
    cipher: &SecretCipher,
    background: &Background,
) -> anyhow::Result<web::Data<AppState>> {
    let customers = Arc::new(SeaOrmCustomerRepository::new(db.clone()));
    let accounts = Arc::new(SeaOrmAccountRepository::new(db.clone()));
    let mut profiles = SeaOrmPbxRepository::new(db.clone(), cipher.clone());
    if serve.no_group_commit {
        profiles = profiles.without_grouping();
    }
    let profiles = Arc::new(profiles);
    let (clock, ids) = (Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let recorder = Recorder::new(clock.clone(), ids.clone(), Arc::new(EventRender))
        .with_collector_stale_after(collector_stale_after(serve)?);
    let pool = db.clone();
    let metrics = Arc::new(Metrics::new(Some(Arc::new(move || pool.pool_usage()))));
    let keys = background.idempotency.clone();
    Ok(web::Data::new(AppState {
        authenticator: Arc::new(authenticator(common).await?),
        rate_limiter: RateLimiter::new(serve.rate_limit, serve.rate_burst).map(Arc::new),
        metrics,
        draining: Arc::default(),
        accounts: Accounts::new(accounts.clone(), clock.clone(), ids.clone(), keys.clone()),
        webhooks: Webhooks::new(
            Arc::new(SeaOrmWebhookRepository::new(db.clone(), cipher.clone())),
            Arc::new(SeaOrmDeliveryStore::new(db.clone())),
            Arc::new(SystemResolver),
            clock.clone(),
            ids.clone(),
            keys.clone(),
            serve.webhooks_allow_private,
        ),
        deliverer: background.deliverer.clone(),
        create_pbx: CreatePbx::new(
            customers.clone(),
            profiles.clone(),
            clock.clone(),
            ids.clone(),
            recorder.clone(),
            keys.clone(),
        ),
        read_pbxs: ReadPbxs::new(customers.clone(), profiles.clone(), accounts),
        patch_pbx: PatchPbx::new(profiles.clone(), recorder.clone()),
        checks: background.checks.clone(),
        delete_pbx: DeletePbx::new(profiles.clone(), recorder.clone()),
        create_customer: CreateCustomer::new(customers.clone(), profiles.clone(), clock, ids, recorder.clone(), keys),
        get_customer: GetCustomer::new(customers.clone(), profiles.clone()),
        list_customers: ListCustomers::new(customers.clone()),
        patch_customer: PatchCustomer::new(customers.clone(), recorder.clone()),
        read_credentials: ReadCredentials::new(customers.clone(), profiles, background.log.clone(), recorder.clone()),
        delete_customer: DeleteCustomer::new(customers, recorder),
        read_events: background.read_events.clone(),
        readiness: Arc::new(db.clone()),
        settings: ApiSettings {
            public_url: serve.public_url.clone(),
            body_limit: serve.body_limit,
            body_timeout: serve.request_timeout,
            cors_origins: serve.cors_origins.clone(),
            metrics_with_api: serve.metrics_bind.is_none(),
            dev_tokens: serve.dev_tokens,
            trust_forwarded: serve.trust_forwarded,
            pbx_hosts_allow_private: serve.pbx_hosts_allow_private,
        },
    }))
}

/// `--dev-tokens` hands out write tokens to whoever asks: refused unless only this host can ask (a loopback bind)
/// and the tokens are this server's own (no `--jwks`).
/// The connection checks (§15): their requests, where their results are kept, and their schedule.
fn checks(serve: &ServeArgs, db: &Database, cipher: &SecretCipher, replica: &str) -> anyhow::Result<Checks> {
    let prober =
        HttpProber::new(serve.pbx_hosts_allow_private, serve.entra_authority.clone(), serve.entra_application()?)?;
    let (clock, ids) = (Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let ports = CheckPorts {
        prober: Arc::new(prober),
        store: Arc::new(SeaOrmConnectionStore::new(db.clone())),
        profiles: Arc::new(SeaOrmPbxRepository::new(db.clone(), cipher.clone())),
        customers: Arc::new(SeaOrmCustomerRepository::new(db.clone())),
        recorder: Recorder::new(clock.clone(), ids, Arc::new(EventRender))
            .with_collector_stale_after(collector_stale_after(serve)?),
        clock,
    };
    let schedule = Schedule {
        automatic: serve.pbx_checks,
        interval: chrono::TimeDelta::from_std(serve.check_interval).context("--check-interval")?,
        collector_stale_after: collector_stale_after(serve)?,
        concurrency: usize::from(serve.check_concurrency),
    };
    Ok(Checks::new(ports, schedule, replica.to_owned()))
}

/// When a collector's report counts as stale, in answers and in events alike.
fn collector_stale_after(serve: &ServeArgs) -> anyhow::Result<chrono::TimeDelta> {
    chrono::TimeDelta::from_std(serve.collector_stale_after).context("--collector-stale-after")
}

fn check_dev_tokens(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<()> {
    if serve.dev_tokens && !serve.bind.ip().is_loopback() {
        anyhow::bail!("--dev-tokens needs a loopback --bind (127.0.0.1 or ::1), not {}", serve.bind);
    }
    if serve.dev_tokens && common.jwks.is_some() {
        anyhow::bail!("--dev-tokens cannot be used with --jwks: the identity provider issues the tokens");
    }
    Ok(())
}

/// Deletes the `Idempotency-Key`s past their retention, at start and every hour (each replica does; deleting twice
/// is harmless).
async fn purge_expired_keys(keys: IdempotencyKeys) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match keys.purge_expired().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired idempotency keys deleted"),
            Err(e) => tracing::warn!(error = %e, "expired idempotency keys could not be deleted"),
        }
    }
}

/// Deletes the change feed's events older than `retention`, at start and every hour (each replica does: the
/// purged position only moves forward, so two purges at once agree).
async fn purge_old_events(events: ReadEvents, retention: std::time::Duration) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match events.purge(retention).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "events past their retention deleted"),
            Err(e) => tracing::warn!(error = %e, "events past their retention could not be deleted"),
        }
    }
}

/// Listens for SIGINT and SIGTERM from now on (so that a signal arriving before the server runs is not lost, nor
/// kills the process); the future resolves when one arrives.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
