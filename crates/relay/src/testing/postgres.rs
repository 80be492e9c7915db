//! A PostgreSQL server of a test's own: a copy of a freshly `initdb`ed cluster in a
//! temporary directory, reached over a Unix socket there (no TCP port to collide on), and
//! gone with the test. Its binaries are found where Debian's `postgresql` package puts
//! them (`/usr/lib/postgresql/<version>/bin`), or in `TSUNAGI_PG_BIN`, or on `PATH`.
//!
//! PostgreSQL will not run as root. Run as root (as CI does), the server runs as the
//! `postgres` user the package creates.

use std::io::Write as _;
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
    server: Option<Server>,
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
        let mut postgres = TestPostgres {
            bin,
            dir,
            owner,
            server: None,
        };
        postgres.start_again().await;
        postgres
    }

    /// Starts the stopped server again, on the same cluster and socket.
    pub async fn start_again(&mut self) {
        assert!(self.server.is_none(), "the server is running already");
        let data = self.dir.path().join("data");
        let run = self.dir.path().join("run");
        let log = run.join("postgres.log");
        // `read` waits for a line ("fast") or for the pipe to close; then the server stops.
        let script = r#"
            "$0" -D "$1" -k "$2" -c listen_addresses= -c max_connections=200 \
                -c shared_buffers=32MB >>"$3" 2>&1 &
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
                return;
            }
            let exited = self
                .server
                .as_mut()
                .and_then(|s| s.shell.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("the test PostgreSQL server did not start:\n{log}");
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

    /// The address of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost/{database}?host={}",
            self.dir.path().join("run").display()
        )
    }

    /// Creates an empty database and returns its address.
    pub async fn new_database(&self) -> String {
        let name = format!("t{}", DATABASES.fetch_add(1, Ordering::Relaxed));
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .expect("the test server answers");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a database is created");
        self.url(&name)
    }
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
