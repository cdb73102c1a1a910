//! `pbx-server serve` (the default): wiring adapters into use cases, use cases into the HTTP server, and a graceful stop.

use std::sync::Arc;

use actix_service::ServiceFactoryExt;
use actix_web::{HttpServer, web};
use anyhow::Context;
use pbx_api::{ApiSettings, AppState, EventRender, Metrics, RateLimiter};
use pbx_application::customer::{CreateCustomer, DeleteCustomer, GetCustomer, ListCustomers, PatchCustomer};
use pbx_application::delivery::Deliverer;
use pbx_application::idempotency::IdempotencyKeys;
use pbx_application::pbx::{CreatePbx, DeletePbx, PatchPbx, ReadCredentials, ReadPbxs};
use pbx_application::system::{SystemClock, UuidV7Generator};
use pbx_application::webhook::Webhooks;
use pbx_application::{Accounts, ReadEvents, Recorder};
use pbx_infra::database::backend_name;
use pbx_infra::{
    HttpSender, SeaOrmAccountRepository, SeaOrmCustomerRepository, SeaOrmDeliveryStore, SeaOrmEventLog,
    SeaOrmIdempotencyStore, SeaOrmPbxRepository, SeaOrmWebhookRepository, SystemResolver,
};

use crate::cli::{CommonArgs, ServeArgs};

use crate::adapters::{authenticator, cipher, database_url, open_database};

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
    let customers = Arc::new(SeaOrmCustomerRepository::new(db.clone()));
    let accounts = Arc::new(SeaOrmAccountRepository::new(db.clone()));
    let mut profiles = SeaOrmPbxRepository::new(db.clone(), cipher.clone());
    if serve.no_group_commit {
        profiles = profiles.without_grouping();
    }
    let profiles = Arc::new(profiles);
    let (clock, ids) = (Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let keys = Arc::new(SeaOrmIdempotencyStore::new(db.clone(), cipher.clone()));
    let idempotency = IdempotencyKeys::new(keys, clock.clone(), ids.clone());
    let purge = tokio::spawn(purge_expired_keys(idempotency.clone()));
    let recorder = Recorder::new(clock.clone(), ids.clone(), Arc::new(EventRender));
    let log = Arc::new(SeaOrmEventLog::new(db.clone()));
    let read_events = ReadEvents::new(log.clone(), clock.clone());
    let purge_events = tokio::spawn(purge_old_events(read_events.clone(), serve.events_retention));
    let deliverer = Deliverer::new(
        Arc::new(SeaOrmDeliveryStore::new(db.clone())),
        Arc::new(SeaOrmWebhookRepository::new(db.clone(), cipher.clone())),
        log.clone(),
        Arc::new(HttpSender::new(serve.webhooks_allow_private)?),
        clock.clone(),
        format!("{}-{}", std::process::id(), pbx_application::ports::IdGenerator::new_id(ids.as_ref())),
    );
    let deliveries = tokio::spawn(deliverer.clone().run());
    let relay = serve.nats_url.as_ref().map(|url| tokio::spawn(pbx_infra::nats::relay(url.clone(), db.clone())));
    let pool = db.clone();
    let metrics = Arc::new(Metrics::new(Some(Arc::new(move || pool.pool_usage()))));
    let state = web::Data::new(AppState {
        authenticator: Arc::new(authenticator(common).await?),
        rate_limiter: RateLimiter::new(serve.rate_limit, serve.rate_burst).map(Arc::new),
        metrics,
        draining: Arc::default(),
        accounts: Accounts::new(accounts.clone(), clock.clone(), ids.clone()),
        webhooks: Webhooks::new(
            Arc::new(SeaOrmWebhookRepository::new(db.clone(), cipher.clone())),
            Arc::new(SeaOrmDeliveryStore::new(db.clone())),
            Arc::new(SystemResolver),
            clock.clone(),
            ids.clone(),
            serve.webhooks_allow_private,
        ),
        deliverer,
        create_pbx: CreatePbx::new(customers.clone(), profiles.clone(), clock.clone(), ids.clone(), recorder.clone()),
        read_pbxs: ReadPbxs::new(customers.clone(), profiles.clone(), accounts),
        patch_pbx: PatchPbx::new(profiles.clone(), recorder.clone()),
        delete_pbx: DeletePbx::new(profiles.clone(), recorder.clone()),
        create_customer: CreateCustomer::new(customers.clone(), profiles.clone(), clock, ids, recorder.clone()),
        idempotency,
        get_customer: GetCustomer::new(customers.clone(), profiles.clone()),
        list_customers: ListCustomers::new(customers.clone()),
        patch_customer: PatchCustomer::new(customers.clone(), recorder.clone()),
        read_credentials: ReadCredentials::new(customers.clone(), profiles.clone(), log, recorder.clone()),
        delete_customer: DeleteCustomer::new(customers, recorder),
        read_events,
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
    });

    let listener = listen(serve.bind).with_context(|| format!("listening on {}", serve.bind))?;
    let address = listener.local_addr().context("the server is bound to no address")?;
    // The service's own handle on the listening socket: it stays open when actix-server closes its own at the stop,
    // so that connections still arriving are answered (see `pbx_api::answer_while_stopping`), not reset.
    let late = listener.try_clone().context("keeping a handle on the listening socket")?;
    let mut server = actix_server::Server::build().disable_signals().shutdown_timeout(serve.shutdown_grace.as_secs());
    let workers = serve
        .workers
        .map_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get), usize::from);
    let connections = connection_bound(serve.max_connections, common.db_max_connections);
    server = server.workers(workers).max_concurrent_connections(connections.div_ceil(workers).max(1));
    let timeouts = Timeouts { keep_alive: serve.keep_alive, head: serve.request_timeout };
    let (api_state, stopping) = (state.clone(), server.graceful_shutdown_signal());
    let server = server
        .listen("pbx-api", listener, move || {
            api_service(pbx_api::app(api_state.clone()), address, timeouts, stopping.clone())
        })
        .with_context(|| format!("listening on {}", serve.bind))?
        .run();
    let handle = server.handle();
    let metrics_server = match serve.metrics_bind {
        Some(bind) => {
            let metrics_state = state.clone();
            let server = HttpServer::new(move || {
                actix_web::App::new().app_data(metrics_state.clone()).route("/metrics", web::get().to(pbx_api::metrics))
            })
            .disable_signals()
            .workers(1)
            .bind(bind)
            .with_context(|| format!("listening for metrics on {bind}"))?;
            let bound = server.addrs().first().copied().context("the metrics server is bound to no address")?;
            println!("pbx-server metrics on http://{bound}/metrics");
            let server = server.run();
            Some((server.handle(), tokio::spawn(server)))
        }
        None => None,
    };
    // A plain line on stdout, whatever the log format: scripts and tests wait for it.
    println!("pbx-server listening on http://{address}");
    tracing::info!(%address, "serving; get a development token with: pbx-server token --tenant <guid>");

    let server = tokio::spawn(server);
    stop.await;
    tracing::info!(drain = ?serve.shutdown_drain, "stopping: draining (readiness 503, no keep-alive)");
    state.draining.store(true, std::sync::atomic::Ordering::Relaxed);
    // Long polls of the change feed answer now, with their cursor, rather than hold the stop for up to 30 s.
    db.stop_waiting_readers();
    tokio::time::sleep(serve.shutdown_drain).await;
    tracing::info!(grace_seconds = serve.shutdown_grace.as_secs(), "stopping: finishing requests in flight");
    // Accept no more, and give the workers a moment to start the connections already handed to them: a stopping
    // worker drops those it has not started.
    handle.pause().await;
    tokio::time::sleep(HANDOVER).await;
    let (stopped, stopped_signal) = tokio::sync::oneshot::channel::<()>();
    let answering = tokio::spawn(pbx_api::answer_while_stopping(late, async {
        let _ = stopped_signal.await;
    }));
    handle.stop(true).await;
    server.await.context("the server task failed")?.context("the server failed")?;
    let _ = stopped.send(());
    answering.await.context("answering connections during the stop failed")?;
    if let Some((handle, task)) = metrics_server {
        handle.stop(true).await;
        task.await.context("the metrics server task failed")?.context("the metrics server failed")?;
    }
    purge.abort();
    purge_events.abort();
    // A delivery cut short is made again (its claim runs out): at least once.
    deliveries.abort();
    if let Some(relay) = relay {
        relay.abort();
    }
    db.close().await?;
    tracing::info!("stopped");
    Ok(())
}

/// How many client connections the API may hold at once (`--max-connections`, within what the open-file limit
/// allows), after raising the soft open-file limit to the hard one: past it the server stops accepting until a
/// connection ends — the next ones wait in the kernel's queue — rather than fail to accept (`EMFILE`) and leave
/// every client, a health check included, unanswered. Files are kept for the database pool and the service's own
/// sockets and files (NATS, webhook deliveries, the LISTEN connection, logs, SQLite's files): 64, the pool, and an
/// eighth of the limit.
fn connection_bound(asked: Option<u32>, db_max_connections: u32) -> usize {
    let files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => files,
        Err(e) => {
            tracing::warn!(error = %e, "the open-file limit could not be read or raised");
            1024
        }
    };
    let kept = 64 + u64::from(db_max_connections) + files / 8;
    let allowed = usize::try_from(files.saturating_sub(kept).max(1)).unwrap_or(usize::MAX);
    let bound = asked.map_or(allowed, |asked| allowed.min(usize::try_from(asked).unwrap_or(usize::MAX)));
    if asked.is_some_and(|asked| usize::try_from(asked).unwrap_or(usize::MAX) > allowed) {
        tracing::warn!(asked, allowed, files, "--max-connections is above what the open-file limit allows; lowered");
    }
    tracing::info!(open_files = files, max_connections = bound, "client connections bounded");
    bound
}

/// The HTTP service of one worker, as actix-web's `HttpServer` builds it, over each connection's socket wrapped in
/// `pbx_api::Enveloped` (so that the answers actix-http writes itself wear the envelope too; `HttpServer` cannot
/// wrap a socket).
fn api_service<A, B>(
    app: actix_web::App<A>,
    address: std::net::SocketAddr,
    timeouts: Timeouts,
    stopping: actix_server::GracefulShutdownSignal,
) -> impl actix_service::ServiceFactory<
    tokio::net::TcpStream,
    Config = (),
    Response = (),
    Error = actix_http::error::DispatchError,
    InitError = (),
>
where
    A: actix_service::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: actix_web::body::MessageBody + 'static,
{
    // What HttpServer gives each connection: the bound address, standing in as the host when a request names none
    // (HTTP/1.0). actix-web has no public constructor for it besides this one.
    let config = actix_web::dev::AppConfig::__priv_test_new(false, address.to_string(), address);
    // As HttpServer sets it up: idle keep-alive connections close when the stop begins (or the stop would wait for
    // them), and a connection being closed has a second to finish.
    let http = actix_http::HttpService::build()
        .graceful_shutdown_signal(move || {
            let stopping = stopping.clone();
            async move { stopping.notified().await }
        })
        .keep_alive(timeouts.keep_alive)
        .client_request_timeout(timeouts.head)
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        .local_addr(address)
        .h1(actix_service::map_config(app, move |()| config.clone()));
    actix_service::fn_service(|stream: tokio::net::TcpStream| async move {
        let peer = stream.peer_addr().ok();
        Ok((pbx_api::Enveloped::new(stream), peer))
    })
    .and_then(http)
}

/// The client timeouts of the API's connections.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// An idle keep-alive connection's.
    keep_alive: std::time::Duration,
    /// A request head's, to arrive whole.
    head: std::time::Duration,
}

/// How long the workers have, once accepting stops, to start the connections handed to them.
const HANDOVER: std::time::Duration = std::time::Duration::from_millis(100);

/// A listening socket on `address`, as actix-web would make it (address reuse, a backlog of 1024).
fn listen(address: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(1024)?.into_std()
}

/// `--dev-tokens` hands out write tokens to whoever asks: refused unless only this host can ask (a loopback bind)
/// and the tokens are this server's own (no `--jwks`).
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
