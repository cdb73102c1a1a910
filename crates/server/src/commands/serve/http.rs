//! The API's HTTP server (actix-server and actix-http directly, as actix-web's `HttpServer` would build it, with each
//! socket wrapped in `pbx_api::Enveloped`) and the metrics' own, each started and stopped as a whole.

use actix_service::ServiceFactoryExt;
use actix_web::{HttpServer, web};
use anyhow::Context;
use pbx_api::AppState;

use crate::cli::{CommonArgs, ServeArgs};

/// The API's server, serving.
pub(super) struct ApiServer {
    /// Where it listens.
    pub(super) address: std::net::SocketAddr,
    handle: actix_server::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The service's own handle on the listening socket: it stays open when actix-server closes its own at the
    /// stop, so that connections still arriving are answered (see `pbx_api::answer_while_stopping`), not reset.
    late: std::net::TcpListener,
}

impl ApiServer {
    /// Listens on `--bind` and serves the API with `state`.
    pub(super) fn start(common: &CommonArgs, serve: &ServeArgs, state: &web::Data<AppState>) -> anyhow::Result<Self> {
        let listener = listen(serve.bind).with_context(|| format!("listening on {}", serve.bind))?;
        let address = listener.local_addr().context("the server is bound to no address")?;
        let late = listener.try_clone().context("keeping a handle on the listening socket")?;
        let mut server =
            actix_server::Server::build().disable_signals().shutdown_timeout(serve.shutdown_grace.as_secs());
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
        Ok(Self { address, handle: server.handle(), task: tokio::spawn(server), late })
    }

    /// Accepts no more and lets the requests in flight finish (within `--shutdown-grace`), answering the
    /// connections that still arrive meanwhile.
    pub(super) async fn stop(self) -> anyhow::Result<()> {
        // Give the workers a moment to start the connections already handed to them: a stopping worker drops those
        // it has not started.
        self.handle.pause().await;
        tokio::time::sleep(HANDOVER).await;
        let (stopped, stopped_signal) = tokio::sync::oneshot::channel::<()>();
        let answering = tokio::spawn(pbx_api::answer_while_stopping(self.late, async {
            let _ = stopped_signal.await;
        }));
        self.handle.stop(true).await;
        self.task.await.context("the server task failed")?.context("the server failed")?;
        let _ = stopped.send(());
        answering.await.context("answering connections during the stop failed")
    }
}

/// The metrics' server (`--metrics-bind`), serving.
pub(super) struct MetricsServer {
    handle: actix_server::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl MetricsServer {
    /// Listens on `bind` and serves `/metrics` from `state`.
    pub(super) fn start(bind: std::net::SocketAddr, state: &web::Data<AppState>) -> anyhow::Result<Self> {
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
        Ok(Self { handle: server.handle(), task: tokio::spawn(server) })
    }

    /// Stops it.
    pub(super) async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.task.await.context("the metrics server task failed")?.context("the metrics server failed")
    }
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
