//! Wiring: adapters into use cases, use cases into the HTTP server.

use std::sync::Arc;

use actix_web::{HttpServer, web};
use anyhow::Context;
use pbx_api::{ApiSettings, AppState, Authenticator, Metrics, RateLimiter, TokenSettings};
use pbx_application::customer::{CreateCustomer, DeleteCustomer, GetCustomer, ListCustomers, PatchCustomer};
use pbx_application::idempotency::IdempotencyKeys;
use pbx_application::pbx::{CreatePbx, DeletePbx, PatchPbx, ReadPbxs};
use pbx_application::system::{SystemClock, UuidV7Generator};
use pbx_domain::ResellerId;
use pbx_infra::database::{backend_name, sqlite_url};
use pbx_infra::seed::SeedPlan;
use pbx_infra::{
    Database, PoolSettings, SeaOrmCustomerRepository, SeaOrmIdempotencyStore, SeaOrmPbxRepository, SecretCipher,
    crypto, key_file, plans, rotation,
};

use crate::cli::{CommonArgs, RotateKeyArgs, SecretArg, SeedArgs, ServeArgs, TokenArgs};

/// Length of the embedded HS256 token key, in bytes.
const TOKEN_KEY_LEN: usize = 64;

fn database_url(common: &CommonArgs) -> String {
    match &common.database_url {
        Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => sqlite_url(&common.data_dir),
    }
}

async fn open_database(common: &CommonArgs) -> anyhow::Result<Database> {
    std::fs::create_dir_all(&common.data_dir)
        .with_context(|| format!("creating the data folder {}", common.data_dir.display()))?;
    let url = database_url(common);
    let settings = PoolSettings {
        max_connections: common.db_max_connections,
        acquire_timeout: common.db_acquire_timeout,
        statement_timeout: Some(common.db_statement_timeout),
    };
    let db = Database::connect(&url, &settings).await?;
    db.migrate().await?;
    tracing::info!(database = backend_name(&url), "database ready");
    Ok(db)
}

fn token_settings(common: &CommonArgs, hs256_key: Vec<u8>) -> TokenSettings {
    TokenSettings {
        hs256_key,
        issuer: common.issuer.clone(),
        audience: common.audience.clone(),
        tenant_claim: common.tenant_claim.clone(),
    }
}

/// The authenticator of the embedded HS256 key of the data folder (created on first use).
fn embedded_authenticator(common: &CommonArgs) -> anyhow::Result<Authenticator> {
    let key = key_file::load_or_create(&common.data_dir.join("token.key"), TOKEN_KEY_LEN)?;
    Ok(Authenticator::hs256(token_settings(common, key)))
}

/// The embedded HS256 authenticator, or the identity provider's keys with `--jwks`.
async fn authenticator(common: &CommonArgs) -> anyhow::Result<Authenticator> {
    match &common.jwks {
        Some(location) => Authenticator::jwks(token_settings(common, Vec::new()), location).await,
        None => embedded_authenticator(common),
    }
}

/// The cipher of secrets at rest: the configured keys, or the key files of the data folder.
fn cipher(common: &CommonArgs) -> anyhow::Result<SecretCipher> {
    let decode = |key: &SecretArg, what: &str| {
        key_file::decode(&key.0, SecretCipher::KEY_LEN).with_context(|| format!("{what} must be 32 bytes in base64"))
    };
    match &common.encryption_key {
        Some(current) => {
            let previous = common
                .previous_encryption_keys
                .iter()
                .map(|k| decode(k, "PBX_PREVIOUS_ENCRYPTION_KEYS"))
                .collect::<anyhow::Result<Vec<_>>>()?;
            SecretCipher::with_previous(&decode(current, "PBX_ENCRYPTION_KEY")?, &previous)
        }
        None => {
            std::fs::create_dir_all(&common.data_dir)?;
            SecretCipher::from_dir(&common.data_dir)
        }
    }
}

/// `pbx-server rotate-key`: re-encrypts every stored secret under a new key. With the data folder's key files,
/// the new key is written beside the current one first (running servers load it when they meet it), then every
/// row is re-encrypted, then it becomes the current key and the old one stays as `encryption.key.<id>`.
pub async fn rotate_key(common: &CommonArgs, args: &RotateKeyArgs) -> anyhow::Result<()> {
    let db = open_database(common).await?;
    let current = cipher(common)?;
    let from_files = common.encryption_key.is_none();
    let new_key = match (&args.new_key, from_files) {
        (Some(key), _) => {
            key_file::decode(&key.0, SecretCipher::KEY_LEN).context("--new-key must be 32 bytes in base64")?
        }
        (None, true) => key_file::random(SecretCipher::KEY_LEN)?,
        (None, false) => anyhow::bail!(
            "with PBX_ENCRYPTION_KEY set, give the new key with --new-key (or PBX_NEW_ENCRYPTION_KEY), after adding it \
             to PBX_PREVIOUS_ENCRYPTION_KEYS of every running replica"
        ),
    };
    let new_id = crypto::key_id(&new_key);
    let dir = &common.data_dir;
    if from_files {
        key_file::write_new(&dir.join(format!("{}.{new_id}", crypto::KEY_FILE)), &new_key)?;
    }
    let report = rotation::re_encrypt_all(&db, &current.rotated_to(&new_key)?).await?;
    if from_files {
        let old = key_file::load_or_create(&dir.join(crypto::KEY_FILE), SecretCipher::KEY_LEN)?;
        let old_path = dir.join(format!("{}.{}", crypto::KEY_FILE, crypto::key_id(&old)));
        if !old_path.exists() {
            key_file::write_new(&old_path, &old)?;
        }
        key_file::replace(&dir.join(crypto::KEY_FILE), &new_key)?;
        std::fs::remove_file(dir.join(format!("{}.{new_id}", crypto::KEY_FILE)))?;
    }
    db.close().await?;
    println!(
        "Re-encrypted {} stored secrets under key {new_id} ({} already were).",
        report.re_encrypted, report.already_current
    );
    if from_files {
        println!("{} now holds key {new_id}; the old key is kept beside it to read backups.", crypto::KEY_FILE);
        println!("Restart the servers at leisure so that they encrypt new secrets with it too.");
    } else {
        println!("Now set PBX_ENCRYPTION_KEY to the new key on every replica, keeping the old one in");
        println!("PBX_PREVIOUS_ENCRYPTION_KEYS until a further rotate-key reports no row left under it.");
    }
    Ok(())
}

/// `pbx-server migrate`.
pub async fn migrate(common: &CommonArgs) -> anyhow::Result<()> {
    open_database(common).await?.close().await
}

/// `pbx-server seed`.
pub async fn seed(common: &CommonArgs, args: &SeedArgs) -> anyhow::Result<()> {
    let plan = SeedPlan {
        reseller: ResellerId::parse(&args.tenant).context("--tenant must be a GUID")?,
        customers: args.customers,
        profiles: args.profiles,
    };
    let db = open_database(common).await?;
    let customers = SeaOrmCustomerRepository::new(db.clone());
    let profiles = SeaOrmPbxRepository::new(db.clone(), cipher(common)?);
    let step = (plan.profiles / 10).max(1);
    let report = pbx_infra::seed::seed(&customers, &profiles, plan, |done| {
        if done % step < 1_000 || done == plan.profiles {
            eprintln!("seed: {done} of {} profiles", plan.profiles);
        }
    })
    .await?;
    db.close().await?;
    println!(
        "Seeded {} customers and {} profiles of tenant {} in {:.1} s.",
        report.customers,
        report.profiles,
        plan.reseller,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

/// `pbx-server explain`: the plans of the read queries, with the ids of the newest profile.
pub async fn explain(common: &CommonArgs) -> anyhow::Result<()> {
    let db = open_database(common).await?;
    let Some(sample) = plans::sample(&db).await? else {
        anyhow::bail!("the database holds no profile to fill the queries with: create one first");
    };
    let plans = plans::read_plans(&db, &sample, false).await?;
    db.close().await?;
    println!(
        "# Plans on {}, for customer {} and profile {}",
        backend_name(&database_url(common)),
        sample.customer,
        sample.pbx
    );
    for plan in &plans {
        println!("\n## {} ({})\n{}", plan.query, if plan.uses_index { "index" } else { "TABLE SCAN" }, plan.sql);
        for step in &plan.steps {
            println!("    {step}");
        }
    }
    let scans: Vec<_> = plans.iter().filter(|p| !p.uses_index).map(|p| p.query).collect();
    anyhow::ensure!(scans.is_empty(), "queries that scan a table: {}", scans.join(", "));
    Ok(())
}

/// `pbx-server token`: the token is the last line printed.
pub fn token(common: &CommonArgs, args: &TokenArgs) -> anyhow::Result<()> {
    if common.jwks.is_some() {
        anyhow::bail!(
            "tokens come from the identity provider configured with --jwks/PBX_JWKS; this service mints none"
        );
    }
    let tenant = ResellerId::parse(&args.tenant).context("--tenant must be a GUID")?;
    let token = embedded_authenticator(common)?.mint(tenant, &args.scope, args.ttl)?;
    println!("# Bearer token for tenant {tenant}, scope '{}', valid {}s:", args.scope, args.ttl.as_secs());
    println!("{token}");
    Ok(())
}

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
        "effective configuration"
    );
}

/// `pbx-server serve`: runs until SIGINT or SIGTERM, then lets requests in flight finish.
pub async fn serve(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<()> {
    let stop = shutdown_signal()?;
    log_configuration(common, serve);
    let db = open_database(common).await?;
    let cipher = cipher(common)?;
    let customers = Arc::new(SeaOrmCustomerRepository::new(db.clone()));
    let profiles = Arc::new(SeaOrmPbxRepository::new(db.clone(), cipher.clone()));
    let (clock, ids) = (Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let keys = Arc::new(SeaOrmIdempotencyStore::new(db.clone(), cipher));
    let idempotency = IdempotencyKeys::new(keys, clock.clone(), ids.clone());
    let purge = tokio::spawn(purge_expired_keys(idempotency.clone()));
    let pool = db.clone();
    let metrics = Arc::new(Metrics::new(Some(Arc::new(move || pool.pool_usage()))));
    let state = web::Data::new(AppState {
        authenticator: Arc::new(authenticator(common).await?),
        rate_limiter: RateLimiter::new(serve.rate_limit, serve.rate_burst).map(Arc::new),
        metrics,
        draining: Arc::default(),
        create_pbx: CreatePbx::new(customers.clone(), profiles.clone(), clock.clone(), ids.clone()),
        read_pbxs: ReadPbxs::new(customers.clone(), profiles.clone()),
        patch_pbx: PatchPbx::new(customers.clone(), profiles.clone()),
        delete_pbx: DeletePbx::new(customers.clone(), profiles),
        create_customer: CreateCustomer::new(customers.clone(), clock, ids),
        idempotency,
        get_customer: GetCustomer::new(customers.clone()),
        list_customers: ListCustomers::new(customers.clone()),
        patch_customer: PatchCustomer::new(customers.clone()),
        delete_customer: DeleteCustomer::new(customers),
        readiness: Arc::new(db.clone()),
        settings: ApiSettings {
            public_url: serve.public_url.clone(),
            body_limit: serve.body_limit,
            cors_origins: serve.cors_origins.clone(),
            metrics_with_api: serve.metrics_bind.is_none(),
            dev_tokens: common.jwks.is_none() && serve.bind.ip().is_loopback(),
        },
    });

    let api_state = state.clone();
    let mut server = HttpServer::new(move || pbx_api::app(api_state.clone()));
    if let Some(workers) = serve.workers {
        server = server.workers(usize::from(workers));
    }
    let server = server
        .disable_signals()
        .client_request_timeout(serve.request_timeout)
        .keep_alive(serve.keep_alive)
        .shutdown_timeout(serve.shutdown_grace.as_secs())
        .bind(serve.bind)
        .with_context(|| format!("listening on {}", serve.bind))?;
    let address = server.addrs().first().copied().context("the server is bound to no address")?;
    let server = server.run();
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
    tokio::time::sleep(serve.shutdown_drain).await;
    tracing::info!(grace_seconds = serve.shutdown_grace.as_secs(), "stopping: finishing requests in flight");
    handle.stop(true).await;
    server.await.context("the server task failed")?.context("the server failed")?;
    if let Some((handle, task)) = metrics_server {
        handle.stop(true).await;
        task.await.context("the metrics server task failed")?.context("the metrics server failed")?;
    }
    purge.abort();
    db.close().await?;
    tracing::info!("stopped");
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
