//! The axum demo as a child process: started on a free loopback port with its store
//! chosen by `FINRIFT_DB` (on a CPU of its own when pinned), waited for until it answers
//! `GET /jwks.json`, its resident memory read from `/proc/<pid>/status`, and stopped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pinning::{allowed_cpus, Pinning};
use crate::Error;

/// How long the demo may take to answer after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The demo's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// `FINRIFT_DB=:memory:`.
    Memory,
    /// A fresh SQLite file in a temporary directory (the demo's default settings:
    /// WAL, `synchronous = FULL`).
    Sqlite,
}

impl Store {
    /// Both, in the order the report lists them.
    pub const ALL: [Store; 2] = [Store::Memory, Store::Sqlite];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Store::Memory => "memory",
            Store::Sqlite => "SQLite",
        }
    }
}

/// A running demo. Dropping it kills the process.
#[derive(Debug)]
pub struct DemoProcess {
    child: Child,
    base: String,
    log: PathBuf,
    /// Holds the SQLite file, its keys and the log; removed when dropped.
    _dir: tempfile::TempDir,
}

impl DemoProcess {
    /// Starts `binary` on `store` (on the server's CPU of `pinning`, if given) and waits
    /// until it answers.
    pub async fn start(
        binary: &Path,
        store: Store,
        pinning: Option<&Pinning>,
    ) -> Result<Self, Error> {
        if !binary.is_file() {
            return Err(format!(
                "no demo binary at {} (build it with `cargo build --release -p examples --bin axum-demo`)",
                binary.display()
            )
            .into());
        }
        let dir = tempfile::tempdir()?;
        let db = match store {
            Store::Memory => ":memory:".into(),
            Store::Sqlite => dir.path().join("demo.sqlite3").into_os_string(),
        };
        // A free port: the kernel's choice, released just before the demo binds it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = dir.path().join("demo.log");
        let mut command = match pinning {
            Some(pinning) => pinning.server_command(binary),
            None => Command::new(binary),
        };
        let child = command
            .env("FINRIFT_ADDR", format!("127.0.0.1:{port}"))
            .env("FINRIFT_DB", db)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log)?)
            .spawn()?;
        let mut demo = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        demo.wait_until_ready().await?;
        if let Some(pinning) = pinning {
            // `taskset` has exec'd the demo by now (it answered): check it took effect.
            let status = std::fs::read_to_string(format!("/proc/{}/status", demo.pid()))?;
            if !pinning.runs_on_server_cpu(&status) {
                return Err(format!(
                    "the demo runs on CPUs {:?}, not on CPU {} alone as pinned",
                    allowed_cpus(&status),
                    pinning.server_cpu()
                )
                .into());
            }
        }
        Ok(demo)
    }

    /// `http://127.0.0.1:<port>`, also the issuer.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The resident memory of the process (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        vm_rss_kib(&status).ok_or_else(|| "no VmRSS in /proc/<pid>/status".into())
    }

    /// Stops the process and waits for it.
    pub fn stop(mut self) -> Result<(), Error> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Polls `GET /jwks.json` until it answers `200`, the process exits, or
    /// [`READY_TIMEOUT`] passes.
    async fn wait_until_ready(&mut self) -> Result<(), Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/jwks.json", self.base);
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!(
                    "the demo exited with {status} before answering; its log:\n{}",
                    self.log_tail()
                )
                .into());
            }
            if let Ok(response) = http.get(&url).send().await {
                if response.status() == reqwest::StatusCode::OK {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "the demo did not answer {url} within {READY_TIMEOUT:?}; its log:\n{}",
            self.log_tail()
        )
        .into())
    }

    /// The last lines of the demo's log.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        // Already stopped (or never started) is fine.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `VmRSS` line of a `/proc/<pid>/status` text, in KiB.
fn vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\taxum-demo\nVmPeak:\t  100 kB\nVmRSS:\t   23456 kB\nThreads:\t5\n";
        assert_eq!(vm_rss_kib(status), Some(23456));
        assert_eq!(vm_rss_kib("Name:\tx\n"), None);
        let own = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(vm_rss_kib(&own).unwrap() > 0);
    }
}
