//! The fault suite's deployment: its own Postgres (initdb + pg_ctl in a temp dir) and Redis,
//! the three services and two gateways from the release binaries, all on loopback, each
//! process logging to a file; processes can be killed and restarted on the same ports.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const GATEWAYS: [&str; 2] = ["gateway-a", "gateway-b"];
const SERVICES: [&str; 3] = ["auth-service", "presence-service", "chat-service"];

use crate::ports::Ports;

fn bin_dir() -> PathBuf {
    std::env::var_os("FAULT_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release"))
}

/// Postgres' server binaries: Debian's newest under /usr/lib/postgresql, else on PATH.
fn pg_bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("pg_ctl").exists() && bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    for dir in on_path {
        if dir.join("pg_ctl").exists() && dir.join("initdb").exists() {
            return dir;
        }
    }
    panic!(
        "the fault suite starts its own Postgres but found no initdb/pg_ctl under \
         /usr/lib/postgresql/*/bin or on PATH: run scripts/deps.sh (installs Debian's postgresql) \
         or install the Postgres server"
    );
}

fn redis_server() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    for dir in on_path.chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")]) {
        if dir.join("redis-server").exists() {
            return dir.join("redis-server");
        }
    }
    panic!(
        "the fault suite starts its own Redis but found no redis-server: run scripts/deps.sh \
         (installs Debian's redis-server) or install Redis"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The running deployment. Dropping it kills everything; after a panic it prints the tail of
/// every log and keeps the directory.
pub struct Cluster {
    pub dir: PathBuf,
    pg_bin: PathBuf,
    pg_port: u16,
    as_postgres: bool,
    pub redis_port: u16,
    ports: BTreeMap<&'static str, u16>,
    processes: BTreeMap<&'static str, Child>,
    jwt_secret: String,
}

impl Cluster {
    pub fn start() -> Cluster {
        let bins = bin_dir();
        for name in [
            "auth-service",
            "chat-service",
            "presence-service",
            "gateway",
            "healthcheck",
        ] {
            assert!(
                bins.join(name).exists(),
                "{} is missing: build with `cargo build --release --workspace --bins` (or set FAULT_BIN_DIR)",
                bins.join(name).display()
            );
        }
        let dir = std::env::temp_dir().join(format!("fault-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("pg")).unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.join("pg"))
                .status();
            assert!(
                chown.is_ok_and(|s| s.success()),
                "cannot chown the Postgres dir to user postgres (is there a postgres user? \
                 scripts/deps.sh installs the server)"
            );
        }
        let mut free = Ports::new();
        let mut ports = BTreeMap::new();
        for name in SERVICES.iter().chain(GATEWAYS.iter()) {
            ports.insert(*name, free.take());
        }
        let mut cluster = Cluster {
            pg_bin: pg_bin_dir(),
            pg_port: free.take(),
            as_postgres,
            redis_port: free.take(),
            ports,
            processes: BTreeMap::new(),
            jwt_secret: uuid::Uuid::new_v4().simple().to_string().repeat(2),
            dir,
        };
        cluster.init_postgres();
        cluster.start_postgres();
        cluster.start_redis();
        for name in SERVICES.iter().chain(GATEWAYS.iter()) {
            cluster.start_process(name);
        }
        cluster
    }

    pub fn gateway(&self, index: usize) -> String {
        format!("127.0.0.1:{}", self.ports[GATEWAYS[index % 2]])
    }

    fn database_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.pg_port)
    }

    fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.redis_port)
    }

    fn log(&self, name: &str) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{name}.log")))
            .unwrap()
    }

    /// Runs a Postgres tool (as user postgres when we are root), its output to postgres.log.
    fn pg_tool(&self, tool: &str, args: &[&str]) -> bool {
        let program = self.pg_bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let log = self.dir.join("pg/tools.log");
        let out = OpenOptions::new().create(true).append(true).open(&log);
        let status = command
            .args(args)
            .current_dir(self.dir.join("pg"))
            .stdin(Stdio::null())
            .stdout(
                out.as_ref()
                    .map_or(Stdio::null(), |f| f.try_clone().unwrap().into()),
            )
            .stderr(out.map_or(Stdio::null(), Stdio::from))
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        status.success()
    }

    fn pg_data(&self) -> String {
        self.dir.join("pg/data").display().to_string()
    }

    fn init_postgres(&self) {
        let data = self.pg_data();
        let ok = self.pg_tool(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(ok, "initdb failed:\n{}", self.tail("pg/tools", 30));
    }

    pub fn start_postgres(&self) {
        let (data, socket) = (self.pg_data(), self.dir.join("pg").display().to_string());
        let log = self.dir.join("pg/postgres.log").display().to_string();
        let options = format!(
            "-p {} -k {socket} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.pg_port
        );
        let ok = self.pg_tool(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
            ],
        );
        assert!(
            ok,
            "Postgres did not start:\n{}",
            self.tail("pg/postgres", 30)
        );
    }

    pub fn stop_postgres(&self) {
        let ok = self.pg_tool(
            "pg_ctl",
            &["-D", &self.pg_data(), "-m", "fast", "-w", "stop"],
        );
        assert!(ok, "pg_ctl stop failed:\n{}", self.tail("pg/tools", 30));
    }

    pub fn start_redis(&mut self) {
        let log = self.log("redis");
        let child = Command::new(redis_server())
            .args(["--port", &self.redis_port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start redis-server");
        self.processes.insert("redis", child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.redis_port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "Redis did not start:\n{}",
                self.tail("redis", 30)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn env_of(&self, name: &str) -> Vec<(&'static str, String)> {
        let url = |service: &str| format!("http://127.0.0.1:{}", self.ports[service]);
        let mut env = vec![
            ("LISTEN_ADDR", format!("127.0.0.1:{}", self.ports[name])),
            ("RUST_LOG", "info".to_owned()),
            ("NO_COLOR", "1".to_owned()),
        ];
        match name {
            "auth-service" => {
                env.push(("DATABASE_URL", self.database_url()));
                env.push(("JWT_SECRET", self.jwt_secret.clone()));
            }
            "chat-service" => {
                env.push(("DATABASE_URL", self.database_url()));
                env.push(("REDIS_URL", self.redis_url()));
                env.push(("PRESENCE_URL", url("presence-service")));
                env.push(("REDIS_KEY_PREFIX", "fault:".to_owned()));
            }
            "presence-service" => {
                env.push(("REDIS_URL", self.redis_url()));
                env.push(("REDIS_KEY_PREFIX", "fault:".to_owned()));
            }
            _ => {
                env.push(("AUTH_URL", url("auth-service")));
                env.push(("CHAT_URL", url("chat-service")));
                env.push(("PRESENCE_URL", url("presence-service")));
                env.push(("REDIS_URL", self.redis_url()));
                env.push(("REDIS_KEY_PREFIX", "fault:".to_owned()));
                env.push(("NODE_ID", name.to_owned()));
                env.push(("PUBLIC_URL", url(name)));
            }
        }
        env
    }

    /// Starts (or restarts) a service or gateway and waits until it answers healthy.
    pub fn start_process(&mut self, name: &'static str) {
        let binary = if name.starts_with("gateway") {
            "gateway"
        } else {
            name
        };
        let log = self.log(name);
        let child = Command::new(bin_dir().join(binary))
            .env_clear()
            .envs(self.env_of(name))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        self.processes.insert(name, child);
        let address = format!("127.0.0.1:{}", self.ports[name]);
        let probe = if binary == "gateway" {
            vec!["--http".to_owned(), format!("http://{address}/readyz")]
        } else {
            vec!["--grpc".to_owned(), address]
        };
        let started = Instant::now();
        loop {
            let healthy = Command::new(bin_dir().join("healthcheck"))
                .args(&probe)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if healthy {
                return;
            }
            if let Ok(Some(status)) = self.processes.get_mut(name).unwrap().try_wait() {
                panic!("{name} exited with {status}:\n{}", self.tail(name, 40));
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{name} never became healthy:\n{}",
                self.tail(name, 40)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `kill -9` of a process we started (`redis`, a service, a gateway).
    pub fn kill(&mut self, name: &str) {
        let mut child = self
            .processes
            .remove(name)
            .unwrap_or_else(|| panic!("{name} is not running"));
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The last `lines` lines of `<name>.log` in the deployment's directory.
    pub fn tail(&self, name: &str, lines: usize) -> String {
        let text = std::fs::read(self.dir.join(format!("{name}.log"))).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn dump_logs(&self) {
        let names = [
            "pg/postgres",
            "redis",
            "auth-service",
            "presence-service",
            "chat-service",
        ];
        for name in names.iter().chain(GATEWAYS.iter()) {
            eprintln!("----- {name}.log (tail) -----\n{}", self.tail(name, 40));
        }
        eprintln!("----- logs kept in {} -----", self.dir.display());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.processes.values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let data = self.pg_data();
        self.pg_tool("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        if std::thread::panicking() {
            self.dump_logs();
        } else if std::env::var_os("FAULT_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
