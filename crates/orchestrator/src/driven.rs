//! The runs the driver is driving, decoded as its last transition of each committed
//! them: the next transition of a run starts from that value instead of decoding the
//! whole run document again, when the stored document is still byte for byte the one
//! that transition committed. The store stays the truth: any other change of the run
//! (an API call, another replica, a transition that failed) changes the document, and
//! the run is decoded from the store.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use weir_resources::ApiError;
use weir_store::Transaction;

use crate::stored_run::{self, RunKey, StoredRun};

/// At most this many bytes of documents are kept (their decoded runs take about as
/// much again); runs beyond it are decoded per transition. A kept run that never has
/// another transition here (deleted, taken over by another replica) stays within it.
const KEPT_BYTES: usize = 64 << 20;

/// The committed document of each kept run, with the run it encodes, and the documents'
/// total length.
#[derive(Default)]
pub(crate) struct DrivenRuns(Mutex<Kept>);

/// What [`DrivenRuns`] holds.
#[derive(Default)]
struct Kept {
    runs: HashMap<RunKey, (String, StoredRun)>,
    bytes: usize,
}

impl DrivenRuns {
    /// Reads the run at `key` in `tx`: the kept value when the stored document is the one
    /// it was committed as, else the stored document decoded. ENF when the run is gone.
    /// The kept value is taken out: a transition that fails leaves nothing behind.
    pub(crate) fn load(
        &self,
        tx: &mut dyn Transaction,
        key: &RunKey,
    ) -> Result<StoredRun, ApiError> {
        let record = stored_run::read(tx, key)?;
        let kept = {
            let mut kept = self.lock();
            let run = kept.runs.remove(key);
            if let Some((doc, _)) = &run {
                kept.bytes = kept.bytes.saturating_sub(doc.len());
            }
            run
        };
        match kept {
            Some((doc, stored)) if doc == record.doc => Ok(stored),
            _ => stored_run::decode(&record),
        }
    }

    /// Keeps `stored`, which a transition of the driver's committed as `doc`, for the
    /// run's next transition; a finished run is not kept (it has none).
    pub(crate) fn keep(&self, key: RunKey, doc: String, stored: StoredRun) {
        if stored.run.status().is_final() {
            return;
        }
        let mut kept = self.lock();
        if kept.bytes + doc.len() > KEPT_BYTES {
            return;
        }
        kept.bytes += doc.len();
        if let Some((replaced, _)) = kept.runs.insert(key, (doc, stored)) {
            kept.bytes = kept.bytes.saturating_sub(replaced.len());
        }
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
