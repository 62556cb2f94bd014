//! Group commit of directory fsyncs: the writes that rename a file into a directory
//! while a round of directory fsyncs is running share the next round, in which each
//! distinct directory is fsynced once.
//!
//! A caller renames its file first, then calls [`DirSyncs::sync`], which returns once a
//! round that *started after the call* has fsynced the directory: the rename is then
//! durable. The first caller finding no round running leads the next one on its own
//! thread (callers run on the blocking pool); the others wait for it.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

/// The directory fsyncs that failed in one round, by directory.
type Failures = HashMap<PathBuf, (io::ErrorKind, String)>;

/// Shared rounds of directory fsyncs.
#[derive(Debug, Default)]
pub struct DirSyncs {
    state: Mutex<State>,
    finished: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Directories waiting for the next round.
    queued: HashSet<PathBuf>,
    /// What the next round will report (set when it has finished).
    next: Arc<OnceLock<Failures>>,
    /// Whether a round is running.
    running: bool,
}

impl DirSyncs {
    /// Returns once `dir` has been fsynced by a round started after this call.
    pub fn sync(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.lock();
        state.queued.insert(dir.to_path_buf());
        let round = state.next.clone();
        loop {
            if let Some(failures) = round.get() {
                return match failures.get(dir) {
                    Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
                    None => Ok(()),
                };
            }
            if state.running {
                state = self
                    .finished
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // No round is running, so the queued one (which holds `dir`) has not
            // started: lead it.
            state.running = true;
            let dirs = std::mem::take(&mut state.queued);
            let outcome = std::mem::take(&mut state.next);
            drop(state);
            let failures: Failures = dirs
                .into_iter()
                .filter_map(|dir| {
                    crate::storage::sync_dir(&dir)
                        .err()
                        .map(|error| (dir, (error.kind(), error.to_string())))
                })
                .collect();
            let _ = outcome.set(failures);
            state = self.lock();
            state.running = false;
            self.finished.notify_all();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_callers_all_return_and_failures_reach_their_callers() {
        let root = tempfile::tempdir().expect("tempdir");
        let syncs = Arc::new(DirSyncs::default());
        let dirs: Vec<PathBuf> = (0..4)
            .map(|i| {
                let dir = root.path().join(i.to_string());
                std::fs::create_dir(&dir).expect("dir");
                dir
            })
            .collect();
        let threads: Vec<_> = (0..32)
            .map(|i| {
                let syncs = syncs.clone();
                let dir = dirs[i % dirs.len()].clone();
                std::thread::spawn(move || syncs.sync(&dir))
            })
            .collect();
        for thread in threads {
            thread.join().expect("joined").expect("synced");
        }
        let missing = root.path().join("missing");
        let error = syncs.sync(&missing).expect_err("no such directory");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        syncs.sync(&dirs[0]).expect("a later round is unaffected");
    }
}
