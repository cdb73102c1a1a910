//! A throw-away database per test, on the backend the environment selects (feature `test-support`).
//!
//! `PBX_TEST_BACKEND` picks `sqlite` (the default), `postgres` or `mysql`; the server-backed ones need
//! `PBX_TEST_POSTGRES_URL` / `PBX_TEST_MYSQL_URL`, an URL to an existing database on a server where the user may
//! create databases. Each [`TestDatabase`] is a new database, dropped when it goes out of scope.

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// A database server kind the tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
    /// A MySQL or MariaDB server.
    MySql,
}

impl Backend {
    /// The backend `PBX_TEST_BACKEND` names (SQLite when unset).
    ///
    /// # Panics
    /// On an unknown name, so that a typo never silently runs the suite on SQLite.
    #[must_use]
    pub fn from_env() -> Self {
        match std::env::var("PBX_TEST_BACKEND").unwrap_or_default().as_str() {
            "" | "sqlite" => Self::Sqlite,
            "postgres" => Self::Postgres,
            "mysql" => Self::MySql,
            other => panic!("PBX_TEST_BACKEND={other}: use sqlite, postgres or mysql"),
        }
    }

    /// The variable that holds this backend's server URL.
    #[must_use]
    pub const fn url_variable(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("PBX_TEST_POSTGRES_URL"),
            Self::MySql => Some("PBX_TEST_MYSQL_URL"),
        }
    }
}

/// A new, empty database; dropped (or its folder deleted) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    backend: Backend,
    url: String,
    server: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A database on the backend of the environment.
    ///
    /// # Errors
    /// When the backend's server URL is not set or the server cannot be reached: a test on PostgreSQL or MySQL
    /// must fail loudly, never skip.
    pub async fn create() -> anyhow::Result<Self> {
        Self::create_on(Backend::from_env()).await
    }

    /// A database on `backend`.
    ///
    /// # Errors
    /// As [`TestDatabase::create`].
    pub async fn create_on(backend: Backend) -> anyhow::Result<Self> {
        let Some(variable) = backend.url_variable() else {
            let dir = tempfile::tempdir()?;
            let url = crate::database::sqlite_url(dir.path());
            return Ok(Self { backend, url, server: None, _dir: Some(dir) });
        };
        let server_url = std::env::var(variable)
            .ok()
            .filter(|v| !v.is_empty())
            .with_context(|| format!("PBX_TEST_BACKEND selects {backend:?} but {variable} is not set"))?;
        let name = format!("pbx_test_{}", uuid::Uuid::now_v7().simple());
        let admin = sea_orm::Database::connect(server_url.as_str())
            .await
            .with_context(|| format!("connecting to the {backend:?} test server ({variable})"))?;
        let (db_backend, create) = match backend {
            Backend::Postgres => (DbBackend::Postgres, format!(r#"CREATE DATABASE "{name}""#)),
            _ => (DbBackend::MySql, format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")),
        };
        admin.execute_raw(Statement::from_string(db_backend, create)).await?;
        admin.close().await?;
        let mut url = url::Url::parse(&server_url)?;
        url.set_path(&name);
        Ok(Self { backend, url: url.to_string(), server: Some((server_url, name)), _dir: None })
    }

    /// The database's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its backend.
    #[must_use]
    pub const fn backend(&self) -> Backend {
        self.backend
    }
}

async fn drop_database(backend: Backend, server_url: &str, name: &str) -> anyhow::Result<()> {
    let admin = sea_orm::Database::connect(server_url).await?;
    let statement = match backend {
        Backend::Postgres => {
            Statement::from_string(DbBackend::Postgres, format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        }
        Backend::MySql => Statement::from_string(DbBackend::MySql, format!("DROP DATABASE IF EXISTS `{name}`")),
        Backend::Sqlite => bail!("SQLite databases are folders"),
    };
    admin.execute_raw(statement).await?;
    admin.close().await?;
    Ok(())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server_url, name)) = self.server.take() else { return };
        let backend = self.backend;
        // Drop runs inside the test's runtime, which cannot be blocked on: use a runtime of our own on a thread.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|rt| rt.block_on(drop_database(backend, &server_url, &name)))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: a test database could not be dropped: {dropped:?}");
        }
    }
}

/// An event to write with a change, for tests whose subject is the change (its fields are placeholders).
#[must_use]
pub fn event() -> pbx_application::NewEvent {
    pbx_application::NewEvent {
        id: uuid::Uuid::now_v7(),
        event_type: pbx_domain::events::EventType::CustomerUpdated,
        occurred_at: chrono::Utc::now(),
        reseller_id: pbx_domain::ResellerId::from_uuid(uuid::Uuid::nil()),
        customer_id: pbx_domain::CustomerId::from_uuid(uuid::Uuid::nil()),
        pbx_id: None,
        actor: pbx_domain::events::Actor { reseller_id: uuid::Uuid::nil(), subject: None },
        changed: None,
        data: Some(serde_json::json!({"countryCode": "US"})),
    }
}
