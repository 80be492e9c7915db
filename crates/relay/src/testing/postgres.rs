//! A PostgreSQL server of a test's own: a copy of a freshly `initdb`ed cluster in a
//! temporary directory, reached over a Unix socket there (no TCP port to collide on), and
//! gone with the test. Its binaries are found where Debian's `postgresql` package puts
//! them (`/usr/lib/postgresql/<version>/bin`), or in `TSUNAGI_PG_BIN`, or on `PATH`.
//!
//! PostgreSQL will not run as root. Run as root (as CI does), the server runs as the
//! `postgres` user the package creates.
//!
//! [`TestPostgres::start_with_tls`] starts one that also listens on 127.0.0.1 and serves
//! TLS with a certificate signed by a certificate authority of the test's own, made then,
//! as a database on another machine is reached.

use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection as _;

/// A running test server. Dropping it stops the server and removes its files.
#[derive(Debug)]
pub struct TestPostgres {
    bin: PathBuf,
    /// `data/` (the cluster) and `run/` (its socket and log).
    dir: tempfile::TempDir,
    owner: Option<(u32, u32)>,
    /// The TCP port on 127.0.0.1, for a server that serves TLS; none listens on TCP else.
    port: Option<u16>,
    server: Option<Server>,
}

/// A certificate authority of a test's own: the root a client is told to trust, and the
/// signer of a server's certificate.
#[derive(Debug)]
struct TestCa {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    /// A new authority, its key made now and known to nobody else.
    fn new(name: &str) -> TestCa {
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let key = rcgen::KeyPair::generate().expect("a CA key");
        let issuer = rcgen::CertifiedIssuer::self_signed(params, key).expect("a CA certificate");
        TestCa { issuer }
    }

    /// Writes the authority's certificate (PEM) to `path`: what `sslrootcert` names.
    fn write_certificate(&self, path: &Path) {
        std::fs::write(path, self.issuer.pem()).expect("the CA certificate is written");
    }

    /// A server's certificate for `names` (host names or IP addresses) and its key, PEM.
    fn issue(&self, names: &[&str]) -> (String, String) {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = rcgen::CertificateParams::new(names.clone()).expect("valid names");
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let key = rcgen::KeyPair::generate().expect("a server key");
        let certificate = params
            .signed_by(&key, &self.issuer)
            .expect("the server's certificate is signed");
        (certificate.pem(), key.serialize_pem())
    }
}

/// The server process, under a shell that stops it when told, or when the test process
/// goes away and the shell's standard input closes with it.
#[derive(Debug)]
struct Server {
    shell: Child,
    stop: ChildStdin,
}

/// How to stop the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Sessions are ended and the cluster is checkpointed (SIGINT).
    Fast,
    /// At once, as a crash: the next start recovers from the write-ahead log (SIGQUIT).
    Immediate,
}

static DATABASES: AtomicU32 = AtomicU32::new(0);

impl TestPostgres {
    /// Starts a server on a fresh cluster. Panics, saying what is missing, when PostgreSQL
    /// is not installed.
    pub async fn start() -> TestPostgres {
        let mut postgres = Self::prepare();
        postgres.start_again().await;
        postgres
    }

    /// Starts a server on a fresh cluster that also listens on 127.0.0.1 (reach it with
    /// [`tcp_url`](Self::tcp_url)) and serves TLS there, with a certificate for `names`
    /// (host names or IP addresses) signed by a certificate authority made for it, whose
    /// certificate is [`ca_file`](Self::ca_file). Clients over TCP may still ask for no
    /// TLS: the server offers it, as PostgreSQL's `ssl = on` does.
    pub async fn start_with_tls(names: &[&str]) -> TestPostgres {
        let mut postgres = Self::prepare();
        let ca = TestCa::new("Tsunagi test CA");
        ca.write_certificate(&postgres.ca_file());
        TestCa::new("A CA that signed nothing here")
            .write_certificate(&postgres.unrelated_ca_file());
        let (certificate, key) = ca.issue(names);
        let data = postgres.dir.path().join("data");
        for (file, pem) in [("server.crt", certificate), ("server.key", key)] {
            let path = data.join(file);
            std::fs::write(&path, pem).expect("the server's certificate and key are written");
            // PostgreSQL refuses a key that others may read.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("0600");
            if let Some((uid, gid)) = postgres.owner {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).expect("chown");
            }
        }
        // A free port is looked up, then bound by the server: another process may take it
        // in between, so a server that cannot bind tries another.
        for attempt in 1.. {
            postgres.port = Some(free_port());
            match postgres.try_start().await {
                Ok(()) => break,
                Err(Failed::PortTaken) if attempt < 5 => continue,
                Err(failed) => failed.panic(),
            }
        }
        postgres
    }

    /// A fresh cluster in a new directory, not started.
    fn prepare() -> TestPostgres {
        let bin = binaries();
        let owner = server_user();
        let template = template(&bin, owner);
        let dir = tempfile::Builder::new()
            .prefix("tsunagi-pg")
            .tempdir()
            .expect("a temporary directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("the directory opens to the server's user");
        let copied = Command::new("cp")
            .arg("-a")
            .arg(&template)
            .arg(dir.path().join("data"))
            .status()
            .expect("cp runs");
        assert!(copied.success(), "copying the template cluster failed");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("the socket directory");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&run, Some(uid), Some(gid)).expect("chown");
        }
        TestPostgres {
            bin,
            dir,
            owner,
            port: None,
            server: None,
        }
    }

    /// Starts the stopped server again, on the same cluster, socket and port.
    pub async fn start_again(&mut self) {
        if let Err(failed) = self.try_start().await {
            failed.panic();
        }
    }

    async fn try_start(&mut self) -> Result<(), Failed> {
        assert!(self.server.is_none(), "the server is running already");
        let data = self.dir.path().join("data");
        let run = self.dir.path().join("run");
        let log = run.join("postgres.log");
        let logged_before = std::fs::metadata(&log).map_or(0, |m| m.len());
        let listen: Vec<String> = match self.port {
            None => vec!["-c".into(), "listen_addresses=".into()],
            Some(port) => vec![
                "-c".into(),
                "listen_addresses=127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
                "-c".into(),
                "ssl=on".into(),
                "-c".into(),
                format!("ssl_cert_file={}", data.join("server.crt").display()),
                "-c".into(),
                format!("ssl_key_file={}", data.join("server.key").display()),
            ],
        };
        // `read` waits for a line ("fast") or for the pipe to close; then the server stops.
        let script = r#"
            bin=$0 data=$1 run=$2 log=$3
            shift 3
            "$bin" -D "$data" -k "$run" -c max_connections=200 -c shared_buffers=32MB \
                "$@" >>"$log" 2>&1 &
            pid=$!
            read -r how
            if [ "$how" = fast ]; then kill -INT $pid; else kill -QUIT $pid; fi
            wait $pid
        "#;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(script)
            .arg(self.bin.join("postgres"))
            .arg(&data)
            .arg(&run)
            .arg(&log)
            .args(&listen)
            .stdin(Stdio::piped());
        as_server_user(&mut command, self.owner);
        let mut shell = command.spawn().expect("the server's shell starts");
        let stop = shell.stdin.take().expect("the shell's input");
        self.server = Some(Server { shell, stop });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if sqlx::PgConnection::connect(&self.url("postgres"))
                .await
                .is_ok()
            {
                return Ok(());
            }
            let logged = std::fs::read(&log).unwrap_or_default();
            let logged = String::from_utf8_lossy(
                logged
                    .get(usize::try_from(logged_before).unwrap_or(0)..)
                    .unwrap_or_default(),
            )
            .into_owned();
            if logged.contains("could not create any TCP/IP sockets") {
                self.stop(Stop::Immediate);
                return Err(Failed::PortTaken);
            }
            let exited = self
                .server
                .as_mut()
                .and_then(|s| s.shell.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                self.stop(Stop::Immediate);
                return Err(Failed::Other(logged));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server and waits until it is down.
    pub fn stop(&mut self, how: Stop) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        let word = match how {
            Stop::Fast => "fast\n",
            Stop::Immediate => "immediate\n",
        };
        let _ = server.stop.write_all(word.as_bytes());
        drop(server.stop);
        let _ = server.shell.wait();
    }

    /// The address of `database` on this server, over its Unix socket.
    pub fn url(&self, database: &str) -> String {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!(
            "postgres://postgres@localhost{port}/{database}?host={}",
            self.dir.path().join("run").display()
        )
    }

    /// The address of `database` over TCP, at `host` (which must name 127.0.0.1), with
    /// `params` (`sslmode=verify-full&sslrootcert=…`). Only for a server that serves TLS.
    pub fn tcp_url(&self, host: &str, database: &str, params: &str) -> String {
        let port = self
            .port
            .expect("a server started with TLS listens on TCP; this one does not");
        format!("postgres://postgres@{host}:{port}/{database}?{params}")
    }

    /// The certificate (PEM) of the authority that signed the server's certificate, for
    /// `sslrootcert`. Written by [`start_with_tls`](Self::start_with_tls).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The certificate of another authority, which signed nothing this server serves.
    pub fn unrelated_ca_file(&self) -> PathBuf {
        self.dir.path().join("unrelated-ca.crt")
    }

    /// Creates an empty database and returns its address.
    pub async fn new_database(&self) -> String {
        let name = self.create_database().await;
        self.url(&name)
    }

    /// Creates an empty database and returns its name.
    pub async fn create_database(&self) -> String {
        let name = format!("t{}", DATABASES.fetch_add(1, Ordering::Relaxed));
        let mut admin = self.admin().await;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a database is created");
        name
    }

    /// A superuser's connection to the `postgres` database, over the Unix socket: to look
    /// at the server from outside what a test checks.
    pub async fn admin(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .expect("the test server answers")
    }
}

/// Why a server did not start.
#[derive(Debug)]
enum Failed {
    /// Another process bound its TCP port first.
    PortTaken,
    /// Anything else, with what the server logged.
    Other(String),
}

impl Failed {
    fn panic(self) -> ! {
        match self {
            Failed::PortTaken => panic!("the test PostgreSQL server found no free TCP port"),
            Failed::Other(log) => panic!("the test PostgreSQL server did not start:\n{log}"),
        }
    }
}

/// A TCP port on 127.0.0.1 that nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.stop(Stop::Immediate);
    }
}

/// The directory with `initdb` and `postgres`.
fn binaries() -> PathBuf {
    if let Some(dir) = std::env::var_os("TSUNAGI_PG_BIN") {
        return PathBuf::from(dir);
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path())))
        .max();
    if let Some((_, dir)) = newest {
        return dir.join("bin");
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").exists());
    on_path.unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed: these tests start a server of their own with its \
             initdb and postgres. Install it (Debian: apt-get install postgresql; `cargo \
             xtask test` does) or name its bin directory in TSUNAGI_PG_BIN."
        )
    })
}

/// Root's tests run the server as `postgres`: its uid and gid.
fn server_user() -> Option<(u32, u32)> {
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if !root {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id runs");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| {
                panic!("run as root, these tests need the `postgres` user to run the server as")
            })
    };
    Some((id("-u"), id("-g")))
}

fn as_server_user(command: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
}

/// A cluster made once per machine and PostgreSQL version, then copied for each server:
/// `initdb` takes seconds, a copy a moment.
fn template(bin: &Path, owner: Option<(u32, u32)>) -> PathBuf {
    let version = bin
        .parent()
        .and_then(|v| v.file_name())
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default();
    let uid = owner.map_or_else(|| "user".to_owned(), |(uid, _)| uid.to_string());
    let home = std::env::temp_dir().join(format!("tsunagi-pg-template-{version}-{uid}"));
    let ready = home.join("data");
    if ready.join("PG_VERSION").exists() {
        return ready;
    }
    std::fs::create_dir_all(&home).expect("the template's directory");
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755))
        .expect("the template's directory opens");
    let building = tempfile::Builder::new()
        .prefix("building")
        .tempdir_in(&home)
        .expect("a directory to build the template in");
    std::fs::set_permissions(building.path(), std::fs::Permissions::from_mode(0o755))
        .expect("the building directory opens");
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(building.path(), Some(uid), Some(gid)).expect("chown");
    }
    let data = building.path().join("data");
    let mut initdb = Command::new(bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    as_server_user(&mut initdb, owner);
    let out = initdb.output().expect("initdb runs");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Whoever renames first made the template; a loser's copy goes with its directory.
    let _ = std::fs::rename(&data, &ready);
    ready
}
