//! The launcher: a supervised process in its own process group whose start is
//! recorded before it may run, and whose identity survives a restart of Weir.
//!
//! Launch protocol (what makes "at most one start per attempt" hold across SIGKILL and
//! across a crash of the machine):
//! 0. Before anything is spawned, the attempt's launch transaction has committed it
//!    RUNNING, with the boot id of the machine that launches it (the orchestrator's
//!    launch record): durable, as every commit.
//! 1. Weir spawns the `sh` supervisor with its stdin on a pipe; the supervisor's first
//!    act is to wait for the word `go` on that pipe.
//! 2. Weir writes `pid` (pid, process start time, boot id, one line ending in a
//!    newline), then writes `go`. Nothing is fsynced.
//! 3. Only then does the supervisor run the command; when it ends, the supervisor
//!    writes `exit` (atomically, by rename).
//!
//! If Weir dies (SIGKILL included) before step 2 completes, the pipe closes, the
//! supervisor reads end of file and exits without running anything. Written data
//! outlives the process that wrote it (the page cache is the machine's), so while the
//! machine runs, a run directory without a complete `pid` (none, or one cut short
//! before its newline) means the command never ran, and the attempt may be started
//! again safely. A `pid` is needed only to re-attach a process that is still alive, and
//! after a crash of the machine none is: so `pid` need not survive one, and its write
//! costs no fsync. What must survive is whether the command *may* have started, and
//! that is step 0's record: an attempt launched in an earlier boot that left no `exit`
//! is never started again, only ended as lost (a counted attempt, retried as the job's
//! MaxRetries say). See `Runner::inspect`. A `pid` is trusted only when the process
//! with that id has the same start time and the machine the same boot id, so a reused
//! pid (after a reboot, or much later) is never adopted or signalled.

use std::io::Write;
use std::path::Path;

/// The `sh` supervisor: `$0` is the run directory, the rest the command. It waits for
/// `go`; a TERM sent to the group reaches the command and is deferred in the
/// supervisor (a handler, not an ignore, so the command keeps the default action), so
/// the command's status is still recorded.
const SUPERVISOR: &str = r#"read -r go || { : > "$0/abandoned.$$"; exit 0; }
[ "$go" = go ] || { : > "$0/abandoned.$$"; exit 0; }
trap 'true' TERM
"$@" </dev/null
status=$?
echo $status > "$0/exit.tmp" && mv "$0/exit.tmp" "$0/exit"
exit $status"#;

/// The supervisor of a standby: the command (a warm Spark driver, see
/// `weir_standby.py`) starts at once and reads its job from the pipe itself; the
/// identity is recorded before the job is written, as `go` is above. A standby that
/// reads end of file instead writes `abandoned.<supervisor pid>`, and then no exit
/// status is recorded. Paths are relative: the working directory is renamed from the
/// standby's to the run's when the job is handed over.
const STANDBY_SUPERVISOR: &str = r#"trap 'true' TERM
"$@"
status=$?
[ -e "abandoned.$$" ] && exit 0
echo $status > exit.tmp && mv exit.tmp exit
exit $status"#;

/// What [`Pending::release`] writes to let a supervised command run.
pub const GO: &[u8] = b"go\n";

/// The file that names the supervisor: `<pid> <start time> <boot id>`.
pub const PID_FILE: &str = "pid";
/// The file the supervisor writes with the command's exit status.
pub const EXIT_FILE: &str = "exit";
/// Whether the supervisor `pid` of `dir` was let go without running its command (it
/// then writes `abandoned.<its pid>`).
pub fn abandoned(dir: &Path, pid: i32) -> bool {
    dir.join(format!("abandoned.{pid}")).exists()
}

/// Who a recorded process is: enough to tell it from a later process with the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Process id, which is also the process group id of the supervised group.
    pub pid: i32,
    /// Start time of the process in clock ticks after boot (`/proc/<pid>/stat` field 22).
    pub start_time: u64,
    /// `/proc/sys/kernel/random/boot_id` of the machine it ran on.
    pub boot_id: String,
}

impl Identity {
    /// The identity of the live process `pid`, if it exists.
    pub fn of(pid: i32) -> Option<Self> {
        Some(Self {
            pid,
            start_time: start_time(pid)?,
            boot_id: boot_id()?,
        })
    }

    /// Parses the content of a `pid` file; `None` for anything else (including the
    /// bare pid older releases wrote, which cannot be verified).
    pub fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split_whitespace();
        let pid = fields.next()?.parse().ok()?;
        let start_time = fields.next()?.parse().ok()?;
        let boot_id = fields.next()?.to_owned();
        fields.next().is_none().then_some(Self {
            pid,
            start_time,
            boot_id,
        })
    }

    /// Whether this exact process still exists (same pid, start time and boot).
    pub fn is_alive(&self) -> bool {
        Self::of(self.pid).is_some_and(|now| &now == self)
    }

    fn render(&self) -> String {
        format!("{} {} {}\n", self.pid, self.start_time, self.boot_id)
    }
}

/// What a run directory's `pid` file holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Record {
    /// No complete record (no file, or one cut short before its newline): `go` was
    /// never written by a process of this boot.
    Absent,
    /// The identity of the supervisor that was let go.
    Identity(Identity),
    /// A complete line that is no identity (the bare pid older releases wrote), which
    /// cannot be verified.
    Unverifiable,
}

impl Record {
    /// Reads the `pid` file of the run directory `dir`.
    pub fn read(dir: &Path) -> Self {
        match std::fs::read_to_string(dir.join(PID_FILE)) {
            Ok(text) if text.ends_with('\n') => {
                Identity::parse(&text).map_or(Self::Unverifiable, Self::Identity)
            }
            _ => Self::Absent,
        }
    }
}

/// A spawned supervisor that has not been allowed to run its command yet.
pub struct Pending {
    child: tokio::process::Child,
    identity: Identity,
}

impl Pending {
    /// The identity of the supervisor (and id of its process group).
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Records the identity in `dir` (not fsynced: see the module's launch protocol),
    /// then lets the command run by writing `go` (a standby: its job, one line) to the
    /// pipe. Returns the running child to wait on. Synchronous on purpose: no
    /// cancellation point lies between the record and the go (the pipe takes a line
    /// without blocking).
    pub fn release(mut self, dir: &Path, go: &[u8]) -> std::io::Result<tokio::process::Child> {
        // One write of the whole line: a record cut short lacks its newline and is
        // read as none ([`Record::read`]); `go` follows only a complete one.
        std::fs::File::create(dir.join(PID_FILE))?.write_all(self.identity.render().as_bytes())?;
        let stdin = self
            .child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("the supervisor has no stdin pipe"))?;
        let mut pipe = std::fs::File::from(stdin.into_owned_fd()?);
        pipe.write_all(go)?;
        drop(pipe);
        Ok(self.child)
    }

    /// Lets the supervisor go without running its command, and reaps it.
    pub async fn abandon(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait().await;
    }
}

/// Spawns the supervisor for `program` in `dir` (its records and `stdout`/`stderr`, and
/// the working directory unless `configure` sets another), in its own process group,
/// waiting for [`Pending::release`], at `niceness` below this process's priority.
/// `configure` adds the arguments and environment.
pub fn spawn(
    dir: &Path,
    niceness: i32,
    program: &str,
    configure: impl FnOnce(&mut tokio::process::Command),
) -> std::io::Result<Pending> {
    let pending = spawn_supervised(
        tokio::process::Command::new("/bin/sh"),
        SUPERVISOR,
        dir,
        program,
        configure,
    )?;
    // The supervisor forks the command only after `go`, so lowering its own priority
    // now covers the command too, without the exec of nice(1) on every start. If this
    // fails, dropping `pending` closes the pipe and the supervisor exits unused.
    lower_priority(pending.identity.pid, niceness)?;
    Ok(pending)
}

/// Spawns a standby under its supervisor in `dir`: unlike [`spawn`], `program` starts
/// at once (so under nice(1), lowered before anything runs); [`Pending::release`]
/// hands it its job after `dir` became the run's.
pub fn spawn_standby(
    dir: &Path,
    niceness: i32,
    program: &str,
    configure: impl FnOnce(&mut tokio::process::Command),
) -> std::io::Result<Pending> {
    // `nice` execs `sh`, so the process group id is the supervisor's pid.
    let mut nice = tokio::process::Command::new("nice");
    nice.arg("-n").arg(niceness.to_string()).arg("sh");
    spawn_supervised(nice, STANDBY_SUPERVISOR, dir, program, configure)
}

/// Starts `command` (`sh`, or a program that execs `sh`) with `-c supervisor`.
fn spawn_supervised(
    mut command: tokio::process::Command,
    supervisor: &str,
    dir: &Path,
    program: &str,
    configure: impl FnOnce(&mut tokio::process::Command),
) -> std::io::Result<Pending> {
    std::fs::create_dir_all(dir)?;
    let stdout = std::fs::File::create(dir.join("stdout"))?;
    let stderr = std::fs::File::create(dir.join("stderr"))?;
    command
        .args(["-c", supervisor])
        .arg(dir)
        .arg(program)
        .current_dir(dir);
    configure(&mut command);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .kill_on_drop(false);
    let child = command.spawn()?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .ok_or_else(|| std::io::Error::other("the supervisor has no process id"))?;
    let identity = Identity::of(pid).ok_or_else(|| {
        std::io::Error::other(format!("cannot read the identity of process {pid}"))
    })?;
    Ok(Pending { child, identity })
}

/// Sets the niceness of process `pid` to this process's plus `niceness` (at most 19,
/// the lowest priority).
fn lower_priority(pid: i32, niceness: i32) -> std::io::Result<()> {
    let who = libc::id_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: getpriority and setpriority only read and set a scheduling attribute of
    // a process; no memory is involved. Our own niceness cannot fail to be read.
    let changed = unsafe {
        let own = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, who, (own + niceness).min(19))
    };
    if changed == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Reads the exit status the supervisor recorded in `dir`.
pub fn read_exit(dir: &Path) -> Option<i32> {
    std::fs::read_to_string(dir.join(EXIT_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Sends `signal` to the process group of `identity` if that exact process group
/// leader still exists; `false` when it is gone (nothing was signalled).
pub fn signal_group(identity: &Identity, signal: i32) -> bool {
    if identity.pid <= 0 || !identity.is_alive() {
        return false;
    }
    // SAFETY: killpg only sends a signal to a process group whose leader we verified
    // to be the process we started; no memory is involved.
    unsafe { libc::killpg(identity.pid, signal) == 0 }
}

/// Sends `signal` to the process group `pgid` of a child this process started and is
/// still waiting for, or has just reaped: its group id could only name a stranger's
/// group if every member had ended and the id been reused in between.
pub fn signal_child_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: as above; the group is one this process started.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

fn start_time(pid: i32) -> Option<u64> {
    use std::io::Read;
    // One line of at most 52 numbers and a 16-byte name: read in one buffer, not
    // grown from a few bytes read by read (as `read_to_string` does for a file that
    // reports no size), since the kernel formats the whole line for every read.
    let mut stat = [0u8; 4096];
    let mut file = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
    let mut len = 0;
    while len < stat.len() {
        match file.read(&mut stat[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    // The command name (field 2) is in parentheses and may contain anything (not
    // even UTF-8); the fields after the last ')' start at field 3, so start time
    // (22) is the 20th.
    let line = stat.get(..len)?;
    let after_name = &line[line.iter().rposition(|&b| b == b')')? + 1..];
    std::str::from_utf8(after_name)
        .ok()?
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// The machine's boot id (`/proc/sys/kernel/random/boot_id`), read once: it cannot
/// change while this process lives.
pub fn boot_id() -> Option<String> {
    static BOOT_ID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|id| id.trim().to_owned())
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_identity_matches_only_the_same_process() {
        let me = Identity::of(std::process::id() as i32).expect("own identity");
        assert!(me.is_alive());
        let parsed = Identity::parse(&me.render()).expect("round trip");
        assert_eq!(parsed, me);
        let reused = Identity {
            start_time: me.start_time + 1,
            ..me.clone()
        };
        assert!(!reused.is_alive(), "same pid, other start time: a stranger");
        let other_boot = Identity {
            boot_id: "another-boot".into(),
            ..me.clone()
        };
        assert!(!other_boot.is_alive(), "same pid, other boot: a stranger");
        assert!(!signal_group(&reused, 0), "a stranger is never signalled");
    }

    #[test]
    fn a_bare_pid_from_an_older_release_is_not_an_identity() {
        assert_eq!(Identity::parse("4242\n"), None);
        assert_eq!(Identity::parse("4242 17 boot extra"), None);
        assert_eq!(Identity::parse(""), None);
    }

    #[tokio::test]
    async fn an_abandoned_supervisor_never_runs_its_command() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = dir.path().join("ran");
        let pending = spawn(dir.path(), 0, "sh", |c| {
            c.arg("-c").arg(format!("touch {}", marker.display()));
        })
        .expect("spawn");
        let pid = pending.identity().pid;
        pending.abandon().await;
        assert!(!marker.exists(), "the command ran without go");
        assert!(abandoned(dir.path(), pid));
        assert!(!dir.path().join(PID_FILE).exists());
        assert_eq!(read_exit(dir.path()), None);
    }

    /// Runs `sh -c script` under a supervisor in `dir` at `niceness`, released at once:
    /// the supervisor's identity and exit status.
    async fn run_released(
        dir: &Path,
        niceness: i32,
        script: &str,
    ) -> (Identity, std::process::ExitStatus) {
        let pending = spawn(dir, niceness, "sh", |c| {
            c.arg("-c").arg(script);
        })
        .expect("spawn");
        let identity = pending.identity().clone();
        let mut child = pending.release(dir, GO).expect("release");
        (identity, child.wait().await.expect("wait"))
    }

    #[tokio::test]
    async fn the_command_runs_at_the_lowered_priority() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, status) = run_released(dir.path(), 3, "nice > niceness").await;
        assert!(status.success());
        // SAFETY: reads this process's niceness; no memory is involved.
        let own = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let seen = std::fs::read_to_string(dir.path().join("niceness")).expect("niceness");
        assert_eq!(seen.trim().parse::<i32>().ok(), Some((own + 3).min(19)));
    }

    #[tokio::test]
    async fn a_released_supervisor_records_its_identity_before_the_command_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (identity, status) = run_released(dir.path(), 0, "cat pid > seen-pid; exit 3").await;
        assert_eq!(status.code(), Some(3));
        assert_eq!(read_exit(dir.path()), Some(3));
        let seen = std::fs::read_to_string(dir.path().join("seen-pid")).expect("seen");
        assert_eq!(Identity::parse(&seen), Some(identity));
    }
}
