//! Starting the real binary and talking to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use pbx_infra::testing::{Backend, TestDatabase};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_pbx-server");

/// What the processes of one test share: the data folder (keys, SQLite) and the database.
struct Shared {
    dir: tempfile::TempDir,
    /// Dropped (the database with it) when the last process of the test goes.
    _database: Option<TestDatabase>,
    extra_env: Vec<(String, String)>,
}

/// A running `pbx-server` with its own data folder and, on PostgreSQL or MySQL, its own database.
pub struct TestServer {
    pub base: String,
    /// The metrics listener's URL, when the server has one of its own.
    pub metrics_url: Option<String>,
    shared: Arc<Shared>,
    database_url: Option<String>,
    /// Environment of this process only, over the shared one.
    own_env: Vec<(String, String)>,
    child: Option<Child>,
    log_file: PathBuf,
    pub client: reqwest::Client,
}

/// Prints a line a test measured, and appends it, with the backend, to the file `PBX_TEST_REPORT` names (set by
/// `make test`, which prints the file with its summary).
pub fn report(line: &str) {
    eprintln!("{line}");
    if let Ok(path) = std::env::var("PBX_TEST_REPORT") {
        use std::io::Write;
        let backend = match pbx_infra::testing::Backend::from_env() {
            pbx_infra::testing::Backend::Sqlite => "SQLite",
            pbx_infra::testing::Backend::Postgres => "PostgreSQL",
            pbx_infra::testing::Backend::MySql => "MySQL",
        };
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(file, "{backend}: {line}");
        }
    }
}

/// A fresh GUID, for a tenant that no other test uses.
pub fn new_guid() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn command(dir: &Path, extra_env: &[(String, String)]) -> Command {
    let mut command = Command::new(BINARY);
    command.arg("--data-dir").arg(dir);
    // The tests set their own configuration: nothing from the environment that runs them.
    for (name, _) in std::env::vars() {
        if name.starts_with("PBX_") || name == "DATABASE_URL" || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    // No connection check of its own (CONTRACT §15) unless a test asks: the example profiles' hosts do not
    // resolve here, and each check's `pbx.connection_changed` would show in the feeds other tests read.
    command.env("PBX_PBX_CHECKS", "false");
    command.envs(extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

impl TestServer {
    /// Starts a server on a free port with an empty data folder, on the backend of `PBX_TEST_BACKEND` (SQLite
    /// in the data folder, with no database flag at all, by default).
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra environment variables (`RUST_LOG=trace`, …).
    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        Self::launch(env, |url| url.to_owned()).await
    }

    /// Starts a server whose database URL is `route(url)` (to put a proxy in between).
    pub async fn launch(env: &[(&str, &str)], route: impl FnOnce(&str) -> String) -> Self {
        let database = match Backend::from_env() {
            Backend::Sqlite => None,
            _ => Some(TestDatabase::create().await.unwrap()),
        };
        let database_url = database.as_ref().map(|db| route(db.url()));
        let shared = Arc::new(Shared {
            dir: tempfile::tempdir().unwrap(),
            _database: database,
            extra_env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        });
        Self::spawn_new(shared, database_url, "server.log", &[])
    }

    /// Another process serving the same database with the same keys: a replica behind a load balancer.
    pub fn replica(&self) -> Self {
        self.replica_with(&[])
    }

    /// A replica whose environment differs by `env`.
    pub fn replica_with(&self, env: &[(&str, &str)]) -> Self {
        let log = format!("replica-{}.log", uuid::Uuid::now_v7().simple());
        Self::spawn_new(Arc::clone(&self.shared), self.database_url.clone(), &log, env)
    }

    fn spawn_new(shared: Arc<Shared>, database_url: Option<String>, log: &str, env: &[(&str, &str)]) -> Self {
        let mut server = Self {
            base: String::new(),
            metrics_url: None,
            log_file: shared.dir.path().join(log),
            shared,
            database_url,
            own_env: env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            child: None,
            client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
        };
        server.spawn();
        server
    }

    fn command(&self) -> Command {
        let mut command = command(self.shared.dir.path(), &self.shared.extra_env);
        if let Some(url) = &self.database_url {
            command.env("DATABASE_URL", url);
        }
        command.envs(self.own_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log_file).unwrap();
        // Loopback on a free port, unless the test asks for another address with PBX_BIND.
        let own_bind = self.own_env.iter().chain(&self.shared.extra_env).find(|(k, _)| k == "PBX_BIND");
        let bind = own_bind.map_or("127.0.0.1:0", |(_, v)| v.as_str()).to_owned();
        let mut child = self
            .command()
            .args(["serve", "--bind", &bind])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("pbx-server listening on ") {
                    let _ = sender.send((true, url.to_owned()));
                } else if let Some(url) = line.strip_prefix("pbx-server metrics on ") {
                    let _ = sender.send((false, url.to_owned()));
                }
            }
        });
        loop {
            match receiver.recv_timeout(Duration::from_secs(60)) {
                Ok((true, url)) => {
                    self.base = url;
                    break;
                }
                Ok((false, url)) => self.metrics_url = Some(url),
                Err(_) => {
                    let _ = child.kill();
                    panic!("pbx-server did not start; its log:\n{}", self.logs());
                }
            }
        }
        self.child = Some(child);
    }

    /// Stops the server with SIGTERM, waits for it to exit 0, and starts it again on the same data.
    pub fn restart(&mut self) {
        let status = self.stop();
        assert!(status.success(), "pbx-server exited with {status} on SIGTERM; log:\n{}", self.logs());
        self.spawn();
    }

    /// The database URL of the server, on PostgreSQL or MySQL.
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// A connection of its own to the server's database (any backend), to look behind the API.
    pub async fn database(&self) -> pbx_infra::Database {
        let url = self.database_url().map_or_else(|| pbx_infra::database::sqlite_url(self.data_dir()), str::to_owned);
        let settings = pbx_infra::PoolSettings { max_connections: 1, ..pbx_infra::PoolSettings::default() };
        pbx_infra::Database::connect(&url, &settings).await.unwrap()
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// Waits for the server to exit (after a signal sent elsewhere).
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.take().expect("the server is running").wait().unwrap()
    }

    /// Starts the server again after it stopped.
    pub fn restart_stopped(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        self.spawn();
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        child.wait().unwrap()
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// The server's data folder.
    pub fn data_dir(&self) -> &Path {
        self.shared.dir.path()
    }

    /// Runs another subcommand of the binary on the same data folder and database.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.command().args(args).output().unwrap()
    }

    /// A token from `pbx-server token` (its last line of output).
    pub fn token(&self, tenant: &str, scope: &str) -> String {
        let output = self.command().args(["token", "--tenant", tenant, "--scope", scope]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().lines().last().unwrap().to_owned()
    }

    /// A token with the `onboarding` scope for a new tenant.
    pub fn reseller(&self) -> String {
        self.token(&new_guid(), "onboarding")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `body` as JSON with a bearer token and extra headers.
    pub async fn post(&self, path: &str, token: &str, body: &Value, headers: &[(&str, &str)]) -> Response {
        self.send(self.client.post(self.url(path)), token, "application/json", body, headers).await
    }

    /// PATCHes the JSON Patch document `operations` with a bearer token and extra headers.
    pub async fn patch(&self, path: &str, token: &str, operations: &Value, headers: &[(&str, &str)]) -> Response {
        self.send(self.client.patch(self.url(path)), token, "application/json-patch+json", operations, headers).await
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        token: &str,
        content_type: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = request
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, content_type)
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// GETs with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).header(AUTHORIZATION, format!("Bearer {token}")).send().await.unwrap()
    }

    /// Creates a customer for the reseller of `token` and returns its id.
    pub async fn customer(&self, token: &str) -> String {
        let response = self.post("/api/v1.0/customers", token, &json!({ "name": "Acme" }), &[]).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["data"]["id"].as_str().unwrap().to_owned()
    }

    /// POSTs a profile to the customer's `pbxs`, charges accepted.
    pub async fn create_pbx(&self, token: &str, customer: &str, profile: &Value) -> Response {
        self.post(&format!("/api/v1.0/customers/{customer}/pbxs"), token, profile, &[("accept-charges", "true")]).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The seed's Kazoo request body, with its own account id.
pub fn kazoo(account_id: &str) -> Value {
    json!({
        "name": "Clients ~.pbx.kazoo.name.~ Pbx",
        "hostRest": "https://rest.example.com",
        "hostWebsocket": "wss://ws.example.com",
        "accountId": account_id,
        "apiKey": "ABCDEF",
        "_type": "KazooPbxConnectionProfile"
    })
}

/// The seed's 3CX request body, with its own licence key.
pub fn three_cx(license_key: &str) -> Value {
    json!({
        "_type": "ThreeCxConnectionProfile",
        "name": "3CX Connexion",
        "licenseKey": license_key,
        "username": "nom d'utilisateur-nom d'utilisateur-nom d'utilisateur",
        "password": "mot de passe mot de passe",
        "enableRecordingArchive": "true",
        "recordingArchiveFrequency": "00:20:00"
    })
}

/// The status, headers and JSON body of an answer.
pub async fn read(response: Response) -> (StatusCode, HeaderMap, Value) {
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, headers, body)
}

/// Asserts an error answer: its status, the envelope, and the message.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, message: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"], expected.as_u16(), "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["message"], message, "{body}");
    assert_timestamp(&body["timestamp"]);
}

/// Asserts a timestamp of the form `2019-11-29T16:03:23.9251680Z`.
pub fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("no timestamp: {value}"));
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 28
        && text.ends_with('Z')
        && bytes[10] == b'T'
        && bytes[19] == b'.'
        && bytes[20..27].iter().all(u8::is_ascii_digit)
        && chrono::DateTime::parse_from_rfc3339(text).is_ok();
    assert!(shape_ok, "not a 7-digit UTC timestamp: {text}");
}

/// The fields named in a validation error's `errors`.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends `request` as written on a new connection and returns the whole answer as text.
pub async fn raw_http(base: &str, request: impl AsRef<[u8]>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The server may answer (and close) before it has read everything: a failed write is not a failure here.
    let _ = stream.write_all(request.as_ref()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// A TCP proxy in front of the database, to cut it off and bring it back as an outage would.
pub struct Proxy {
    port: u16,
    target: String,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    /// A proxy on a free local port forwarding to `target` (`host:port`).
    pub async fn start(target: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut proxy =
            Self { port: listener.local_addr().unwrap().port(), target: target.to_owned(), tasks: Arc::default() };
        proxy.serve(listener);
        proxy
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn route(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (target, tasks) = (self.target.clone(), Arc::clone(&self.tasks));
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(forward.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// The database is gone: new connections are refused and open ones are closed.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// The database is back on the same address.
    pub async fn restore(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

/// The `host:port` of a database URL.
pub fn host_port(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    format!("{}:{}", url.host_str().unwrap(), url.port_or_known_default().unwrap())
}
