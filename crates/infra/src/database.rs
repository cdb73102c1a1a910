//! Connecting to the database chosen by URL: SQLite (the zero-setup default), PostgreSQL or MySQL/MariaDB.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pbx_application::{Readiness, RepositoryError};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use crate::db_error::repository_error;
use crate::group_commit::GroupCommit;
use crate::migration::Migrator;
use crate::unit_of_work::{self, Applied, Change, Unit, WriteErr};
use crate::wakeup::Wakeups;
use sea_orm::{DatabaseTransaction, DbErr};

/// Connection pool settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a request waits for a free connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
    /// The longest a statement may run before the database cancels it (PostgreSQL and MySQL/MariaDB).
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// How long a waiting reader of the feed goes without reading when nothing it may see is committed, on PostgreSQL:
/// a safety read for a notification that went astray.
const QUIET: Duration = Duration::from_secs(10);

/// The name of the lock replicas take so that only one migrates at a time.
const MIGRATION_LOCK: &str = "pbx_server_migrations";

/// An open connection pool.
#[derive(Debug, Clone)]
pub struct Database {
    connection: DatabaseConnection,
    /// SQLite has one writer at a time: writers of this process queue here, in order, rather than sleep in
    /// SQLite's busy handler (which costs throughput and tail latency).
    writes: Option<Arc<tokio::sync::Mutex<()>>>,
    /// SQLite: the writer that commits concurrent changes together (see [`crate::group_commit`]).
    group: Option<GroupCommit>,
    /// The change feed's waiting readers on this replica, rung by the commits they may see.
    wakeups: Wakeups,
}

#[async_trait::async_trait]
impl Readiness for Database {
    async fn check(&self) -> Result<(), RepositoryError> {
        self.check_ready().await
    }
}

/// The URL of the SQLite database file `pbx.db` in `data_dir` (created when missing).
#[must_use]
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", crate::data_dir::sqlite_file(data_dir).display())
}

impl Database {
    /// Opens a pool on `url` (`sqlite://…`, `postgres://…` or `mysql://…`).
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL` (a create answered 201 survives a power cut), foreign keys
    /// on, and a busy timeout so that concurrent writers wait for each other instead of failing.
    ///
    /// # Errors
    /// When the URL names no supported database or the database cannot be reached.
    pub async fn connect(url: &str, settings: &PoolSettings) -> anyhow::Result<Self> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(settings.max_connections)
            .min_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            .connect_timeout(settings.acquire_timeout)
            .sqlx_logging(false)
            // A ping before every acquire doubles the round trips of a request; ping only connections idle long
            // enough to have gone stale (a connection broken under load fails its query, and is dropped).
            .test_before_acquire_if_idle_for(Duration::from_secs(1))
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
        if let Some(timeout) = settings.statement_timeout {
            let millis = timeout.as_millis().max(1).to_string();
            options.map_sqlx_postgres_opts(move |opts| opts.options([("statement_timeout", millis.as_str())]));
            options.after_connect(move |connection| {
                Box::pin(async move {
                    if connection.get_database_backend() != DbBackend::MySql {
                        return Ok(());
                    }
                    // MariaDB names it max_statement_time (seconds); MySQL max_execution_time (milliseconds).
                    let mariadb = format!("SET SESSION max_statement_time = {}", timeout.as_secs_f64());
                    if connection.execute_unprepared(&mariadb).await.is_err() {
                        let mysql = format!("SET SESSION max_execution_time = {}", timeout.as_millis());
                        connection.execute_unprepared(&mysql).await?;
                    }
                    Ok(())
                })
            });
        }
        let connection = sea_orm::Database::connect(options)
            .await
            .with_context(|| format!("connecting to the {} database", backend_name(url)))?;
        let writes: Option<Arc<tokio::sync::Mutex<()>>> =
            (connection.get_database_backend() == DbBackend::Sqlite).then(Arc::default);
        let wakeups = match connection.get_database_backend() {
            DbBackend::Postgres => Wakeups::new(QUIET, Some(connection.get_postgres_connection_pool().clone())),
            // No channel between replicas (MySQL) or processes on one file (SQLite): a waiting reader reads again
            // every second for the others' events.
            _ => Wakeups::new(Duration::from_secs(1), None),
        };
        let group =
            writes.as_ref().map(|writes| GroupCommit::start(connection.clone(), Arc::clone(writes), wakeups.clone()));
        Ok(Self { connection, writes, group, wakeups })
    }

    /// Brings the schema up to date. Replicas starting together on one PostgreSQL or MySQL server take a lock
    /// first, so that one migrates and the others then find nothing left to do.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let connection = &self.connection;
        match self.backend() {
            DbBackend::Postgres => {
                // DDL is transactional on PostgreSQL: the lock lasts as long as the transaction that migrates.
                let txn = connection.begin().await?;
                txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock(hashtext('{MIGRATION_LOCK}'))")).await?;
                Migrator::up(&txn, None).await.context("migrating the database")?;
                txn.commit().await?;
            }
            DbBackend::MySql => {
                // The transaction only pins one connection: MySQL's locks belong to the session.
                let txn = connection.begin().await?;
                txn.execute_unprepared(&format!("SELECT GET_LOCK('{MIGRATION_LOCK}', 300)")).await?;
                let migrated = Migrator::up(&txn, None).await;
                txn.execute_unprepared(&format!("SELECT RELEASE_LOCK('{MIGRATION_LOCK}')")).await?;
                txn.commit().await?;
                migrated.context("migrating the database")?;
            }
            _ => Migrator::up(connection, None).await.context("migrating the database")?,
        }
        Ok(())
    }

    /// Whether the database answers and its schema is up to date.
    ///
    /// # Errors
    /// [`RepositoryError::Unavailable`] when it does not answer, [`RepositoryError::Unexpected`] when migrations
    /// are pending.
    pub async fn check_ready(&self) -> Result<(), RepositoryError> {
        let pending = Migrator::get_pending_migrations_read_only(&self.connection).await.map_err(repository_error)?;
        if pending.is_empty() {
            Ok(())
        } else {
            Err(RepositoryError::Unexpected(anyhow::anyhow!("{} migrations are pending", pending.len())))
        }
    }

    /// Applies `change`: on SQLite with the concurrent changes of other requests in one transaction (group
    /// commit, which also keeps writers from meeting `SQLITE_BUSY`), alone elsewhere (see
    /// [`Change::apply_alone`]). Returns once it is committed, or why not.
    pub(crate) async fn apply(&self, change: Change) -> Result<Applied, WriteErr> {
        match &self.group {
            Some(group) => group.apply(change).await,
            None => change.apply_alone(&self.connection, &self.wakeups).await.map_err(Arc::new),
        }
    }

    /// Runs one statement that records no event, as a change of its own; the rows it changed.
    pub(crate) async fn execute(&self, statement: sea_orm::Statement) -> Result<u64, WriteErr> {
        Ok(match self.apply(Change::unrecorded(statement)).await? {
            Applied::Written { rows, .. } => rows,
            Applied::Unmatched | Applied::KeyTaken => 0,
        })
    }

    /// Runs `work` as a unit of work (see [`unit_of_work::transact`]), on SQLite in this process's write turn.
    pub(crate) async fn transact<T>(
        &self,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<Unit<T>, DbErr>,
    ) -> Result<T, DbErr> {
        let _turn = match &self.writes {
            Some(writes) => Some(writes.lock().await),
            None => None,
        };
        unit_of_work::transact(&self.connection, &self.wakeups, work).await
    }

    /// The change feed's waiting readers on this replica.
    pub(crate) fn wakeups(&self) -> &Wakeups {
        &self.wakeups
    }

    /// The service stops: every long poll waiting for events answers now (an empty page), and any that starts
    /// waiting answers at once.
    pub fn stop_waiting_readers(&self) {
        self.wakeups.stop();
    }

    /// The SeaORM connection, for the repositories.
    #[must_use]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.connection
    }

    /// Which database this is.
    #[must_use]
    pub fn backend(&self) -> DbBackend {
        self.connection.get_database_backend()
    }

    /// Connections open in the pool, and how many of them are idle.
    #[must_use]
    pub fn pool_usage(&self) -> (u32, usize) {
        let connection = &self.connection;
        match self.backend() {
            DbBackend::Postgres => {
                let pool = connection.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            DbBackend::MySql => {
                let pool = connection.get_mysql_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = connection.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
    }

    /// Closes the pool, waiting for connections in use to come back.
    ///
    /// # Errors
    /// When closing fails.
    pub async fn close(self) -> anyhow::Result<()> {
        self.connection.close().await.context("closing the database pool")
    }
}

/// A name for the kind of database a URL names, for messages (never the URL: it may hold a password).
#[must_use]
pub fn backend_name(url: &str) -> &'static str {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => "SQLite",
        Some("postgres" | "postgresql") => "PostgreSQL",
        Some("mysql" | "mariadb") => "MySQL",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_never_include_the_url() {
        assert_eq!(backend_name("postgres://u:secret@h/db"), "PostgreSQL");
        assert_eq!(backend_name("mysql://root@127.0.0.1/test"), "MySQL");
        assert_eq!(backend_name("sqlite://./data/pbx.db?mode=rwc"), "SQLite");
        assert_eq!(backend_name("nonsense"), "unknown");
    }

    #[tokio::test]
    async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
        use sea_orm::Statement;
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(&sqlite_url(dir.path()), &PoolSettings::default()).await.unwrap();
        let pragma = |sql: &'static str| {
            let db = db.clone();
            async move {
                let row = db
                    .connection()
                    .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<i64>(0)
                    .map(|v| v.to_string())
                    .or_else(|_| row.try_get_by_index::<String>(0))
                    .unwrap()
            }
        };
        assert_eq!(pragma("PRAGMA journal_mode").await, "wal");
        assert_eq!(pragma("PRAGMA foreign_keys").await, "1");
        assert_eq!(pragma("PRAGMA synchronous").await, "2", "FULL");
        assert!(dir.path().join("pbx.db").exists());
    }
}
