//! The servers under test, started as child processes on 127.0.0.1 only: Weir, the
//! peer (moto_server) and the trivial echo endpoint that calibrates the generator.
//!
//! Every child gets `PR_SET_PDEATHSIG = SIGKILL`, so a benchmark that is interrupted
//! (Ctrl-C, the time bound in scripts/bench.sh) leaves no server behind. Children are
//! always spawned from the main thread, which lives as long as the process.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::procfs;

/// How long a server may take to start listening.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// A running server process.
pub struct Server {
    /// Short name for reports (`weir`, `moto`, `echo`).
    pub name: &'static str,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The process (taken when it is stopped).
    child: Option<Child>,
}

/// How to start Weir.
#[derive(Debug, Clone)]
pub struct WeirCommand {
    /// The `weir` binary.
    pub bin: PathBuf,
    /// Interpreter for pythonshell jobs (`--python`).
    pub python: String,
    /// Directory of the prepared Spark runtimes (`--runtime-dir`).
    pub runtime_dir: PathBuf,
}

impl Server {
    /// Starts `weir serve` on a free loopback port over `data_dir` (created if needed).
    pub fn weir(command: &WeirCommand, data_dir: &Path) -> Result<Self> {
        Self::weir_with(command, data_dir, &[])
    }

    /// [`Server::weir`] with more `weir serve` options.
    pub fn weir_with(command: &WeirCommand, data_dir: &Path, options: &[&str]) -> Result<Self> {
        Self::weir_logged(command, data_dir, &data_dir.with_extension("log"), options)
    }

    /// [`Server::weir_with`] writing its log to `log` (replicas share a data directory
    /// but not a log).
    pub fn weir_logged(
        command: &WeirCommand,
        data_dir: &Path,
        log_path: &Path,
        options: &[&str],
    ) -> Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let log = std::fs::File::create(log_path)?;
        let mut cmd = Command::new(&command.bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--python")
            .arg(&command.python)
            .arg("--runtime-dir")
            .arg(&command.runtime_dir)
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child =
            spawn(&mut cmd).with_context(|| format!("starting {}", command.bin.display()))?;
        let stdout = child.stdout.take().context("weir stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let _ = tx.send(first);
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(START_DEADLINE)
            .ok()
            .flatten()
            .unwrap_or_default();
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|a| a.trim().parse().ok());
        let mut server = Server {
            name: "weir",
            addr: addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
            child: Some(child),
        };
        if addr.is_none() {
            server.kill();
            bail!(
                "weir printed {line:?} instead of `listening on 127.0.0.1:<port>` (log: {})",
                log_path.display()
            );
        }
        Ok(server)
    }

    /// Starts `moto_server` on a free loopback port; its output goes to `log`.
    pub fn moto(bin: &Path, log: &Path) -> Result<Self> {
        let port = free_port()?;
        let log = std::fs::File::create(log)?;
        let mut cmd = Command::new(bin);
        cmd.arg("-H")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = spawn(&mut cmd).with_context(|| format!("starting {}", bin.display()))?;
        let mut server = Server {
            name: "moto",
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child: Some(child),
        };
        server.wait_listening()?;
        Ok(server)
    }

    /// Starts this binary's trivial endpoint (`weir-bench echo-server`), answering
    /// `body_bytes` bytes from memory when given (else `{}`).
    pub fn echo(body_bytes: Option<usize>) -> Result<Self> {
        let port = free_port()?;
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg("echo-server")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"));
        if let Some(bytes) = body_bytes {
            cmd.arg("--body-bytes").arg(bytes.to_string());
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = spawn(&mut cmd).context("starting the echo server")?;
        let mut server = Server {
            name: "echo",
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child: Some(child),
        };
        server.wait_listening()?;
        Ok(server)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Its resident set size now (`VmRSS`), KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        procfs::status_kib(self.pid(), "VmRSS")
    }

    /// Its peak resident set size (`VmHWM`), KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        procfs::status_kib(self.pid(), "VmHWM")
    }

    /// Stops the server with SIGTERM (graceful) and waits; SIGKILL after a grace period.
    pub fn stop(mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        // SAFETY: sends a signal to our own child process.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        child.wait()?;
        bail!(
            "{} did not stop within {STOP_GRACE:?} of SIGTERM",
            self.name
        )
    }

    /// Waits until the server accepts TCP connections (or exits, or time runs out).
    fn wait_listening(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("{} exited with {status} before listening", self.name);
            }
            if Instant::now() >= deadline {
                self.kill();
                bail!("{} did not listen on {} in time", self.name, self.addr);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL and reap (a crash, for failover measurements; also the end of a server
    /// that is dropped).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Spawns `cmd` so that it is killed when this process dies.
fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd.spawn()
}

/// A loopback port that was free a moment ago.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
