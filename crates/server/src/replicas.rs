//! The server's part among the replicas serving one store (see
//! `weir_resources::replica`): taking this replica's lease at start, then, on a shared
//! store, renewing it every third of the lease timeout, taking over the work of the
//! replicas whose leases ended, reloading what other replicas may have changed
//! (schedules, the windows of pending event batches), acting on the notices they send,
//! and stopping at once when the lease was lost. Also the start-up check that every
//! replica of a shared store uses the same files.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{mpsc, oneshot};
use weir_events::EventBus;
use weir_glue::App;
use weir_orchestrator::schedule::Scheduler;
use weir_resources::ApiError;
use weir_resources::replica::{self, Notice, Renewal, Take};
use weir_store::{Heard, Setting};

/// Full takeover checks run at least every this many renewals, besides the renewals
/// that ended leases (work can be orphaned without a lease ending: a replica fenced
/// while a start was in flight).
const TAKE_OVER_EVERY: u32 = 10;

/// The settings key naming the files every replica of a shared store must use.
const FILES_KEY: &str = "replica-files";
/// The marker file, in the data directory and in the S3 directory's `.weir`.
const FILES_MARKER: &str = "replica-files";

/// This process as a replica.
#[derive(Clone)]
pub struct Replica {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    lease_ms: i64,
    app: App,
    scheduler: Scheduler,
    events: EventBus,
}

impl Replica {
    /// Replica `name` of the store `app` works on, holding leases of `lease_ms`.
    pub fn new(
        name: String,
        lease_ms: i64,
        app: App,
        scheduler: Scheduler,
        events: EventBus,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                name,
                lease_ms,
                app,
                scheduler,
                events,
            }),
        }
    }

    fn shared(&self) -> bool {
        self.inner.app.db().store().shared()
    }

    /// On a shared store, takes this replica's lease (from an earlier process of the
    /// same name too); then takes over the work nobody holds: the runs, crawls and
    /// blueprint work of earlier processes (on a store only this process uses, all of
    /// it).
    pub async fn start(&self) -> anyhow::Result<()> {
        if self.shared() {
            let (name, lease_ms) = (self.inner.name.clone(), self.inner.lease_ms);
            let now = self.inner.app.clock().now_millis();
            let renewal = self
                .inner
                .app
                .db()
                .write(move |tx| replica::renew(tx, &name, Take::Start, now, lease_ms))
                .await
                .map_err(|e| anyhow::anyhow!("taking the replica lease: {e}"))?;
            if let Renewal::Renewed { ended } = &renewal
                && !ended.is_empty()
            {
                tracing::info!(ended = ended.len(), "ended the leases of earlier processes");
            }
            tracing::info!(replica = %self.inner.name, epoch = replica::epoch(), "holding the replica lease");
        }
        self.take_over()
            .await
            .map_err(|e| anyhow::anyhow!("taking over interrupted work: {e}"))
    }

    /// Takes over every run, crawl and blueprint work whose process holds no lease.
    async fn take_over(&self) -> Result<(), ApiError> {
        let app = &self.inner.app;
        let runs = app.orchestrator().take_over().await?;
        if runs > 0 {
            tracing::info!(runs, "took over the runs that were active");
        }
        let crawls = weir_catalog::lifecycle::settle_interrupted(app.db(), app.clock()).await?;
        if crawls > 0 {
            tracing::info!(crawls, "marked the crawls a stop interrupted as failed");
        }
        let blueprint_work = weir_glue::blueprint::recovery::recover(app).await?;
        if blueprint_work > 0 {
            tracing::info!(
                entries = blueprint_work,
                "took over interrupted blueprint registrations and runs"
            );
        }
        Ok(())
    }

    /// On a shared store: acts on the notices other replicas send, and renews the lease
    /// every third of its length until it is lost, which `lost` reports (with why).
    /// Nothing to do on a store only this process uses.
    pub fn keep(&self, lost: oneshot::Sender<String>) -> anyhow::Result<()> {
        if !self.shared() {
            return Ok(());
        }
        let (heard, mut hearing) = mpsc::unbounded_channel();
        self.inner
            .app
            .db()
            .store()
            .listen(Box::new(move |notice| {
                let _ = heard.send(notice);
            }))
            .context("listening for the other replicas' notices")?;
        let me = self.clone();
        tokio::spawn(async move {
            let mut first = true;
            while let Some(notice) = hearing.recv().await {
                match notice {
                    Heard::Message(text) => match Notice::parse(&text) {
                        Some(notice) if notice.is_for_me() => {
                            me.inner.app.orchestrator().heard(notice).await;
                        }
                        Some(_) => {}
                        None => tracing::warn!(notice = %text, "ignored a notice of unknown form"),
                    },
                    // Notices sent while the connection was down are lost: look at
                    // every run this replica drives again.
                    Heard::Listening if !first => me.inner.app.orchestrator().look_at_mine().await,
                    Heard::Listening => first = false,
                }
            }
        });
        tokio::spawn(self.clone().renew_until_lost(lost));
        Ok(())
    }

    async fn renew_until_lost(self, lost: oneshot::Sender<String>) {
        let clock = self.inner.app.clock().clone();
        let lease_ms = self.inner.lease_ms;
        let every = (lease_ms / 3).max(1);
        let mut renewed_at = clock.now_millis();
        let mut rounds: u32 = 0;
        loop {
            clock
                .sleep_until(clock.now_millis().saturating_add(every))
                .await;
            let now = clock.now_millis();
            let name = self.inner.name.clone();
            let renewal = self
                .inner
                .app
                .db()
                .write(move |tx| replica::renew(tx, &name, Take::Renew, now, lease_ms))
                .await;
            match renewal {
                Ok(Renewal::Renewed { ended }) => {
                    renewed_at = now;
                    rounds = rounds.wrapping_add(1);
                    if !ended.is_empty() {
                        tracing::warn!(
                            replicas = ended.len(),
                            "replica leases ended: taking over their work"
                        );
                    }
                    let look = !ended.is_empty() || rounds.is_multiple_of(TAKE_OVER_EVERY);
                    if look && let Err(error) = self.take_over().await {
                        tracing::error!(%error, "taking over orphaned work failed; tried again at the next renewal");
                    }
                    self.reload().await;
                }
                Ok(Renewal::Fenced { by }) => {
                    let by = by.unwrap_or_else(|| "none (it expired)".into());
                    let _ = lost.send(format!(
                        "replica {} lost its lease (now held by epoch {by}): stopping at once",
                        self.inner.name
                    ));
                    return;
                }
                Err(error) => {
                    tracing::error!(%error, "could not renew the replica lease");
                    if now >= renewed_at.saturating_add(lease_ms) {
                        let _ = lost.send(format!(
                            "replica {} could not renew its lease for {lease_ms} ms: stopping \
                             at once (another replica may take its work over)",
                            self.inner.name
                        ));
                        return;
                    }
                }
            }
        }
    }

    /// Schedules and event batch windows other replicas may have added or changed.
    async fn reload(&self) {
        if let Err(error) = self.inner.scheduler.load().await {
            tracing::warn!(%error, "could not reload trigger schedules");
        }
        if let Err(error) = self.inner.events.windows().load().await {
            tracing::warn!(%error, "could not reload pending event batches");
        }
    }

    /// Gives the lease up at a clean stop, so other replicas take over at once.
    pub async fn release(&self) {
        if !self.shared() {
            return;
        }
        let name = self.inner.name.clone();
        if let Err(error) = self
            .inner
            .app
            .db()
            .write(move |tx| replica::release(tx, &name))
            .await
        {
            tracing::warn!(%error, "could not give up the replica lease");
        }
    }
}

/// On a shared store, checks that this replica uses the same data and S3 directories
/// as the others: the first replica records a random token in the store and in a
/// marker file in each directory; a replica whose directories lack the marker, or hold
/// another token, refuses to start (its job runs, logs and objects would be invisible
/// to the others).
pub fn check_shared_files(
    store: &dyn weir_store::Store,
    data_dir: &Path,
    s3_dir: &Path,
) -> anyhow::Result<()> {
    if !store.shared() {
        return Ok(());
    }
    let markers = [
        data_dir.join(FILES_MARKER),
        s3_dir.join(".weir").join(FILES_MARKER),
    ];
    let token = weir_store::StoreExt::write(store, |tx| {
        if let Some(recorded) = tx.get_meta(FILES_KEY)? {
            return Ok::<_, anyhow::Error>(recorded.value);
        }
        // The first replica of this store names the files.
        let token = weir_resources::ids::random_id("files-");
        for marker in &markers {
            write_marker(marker, &token)?;
        }
        let setting = Setting {
            value: token.clone(),
            version: 1,
        };
        tx.put_meta(FILES_KEY, &setting)?;
        Ok(token)
    })?;
    for marker in &markers {
        let found = std::fs::read_to_string(marker).unwrap_or_default();
        if found.trim() != token {
            anyhow::bail!(
                "{} does not name this store's shared files: every replica of a PostgreSQL \
                 store must use the same --data-dir and --s3-dir (a shared file system), or \
                 job runs, logs and objects of one replica are invisible to the others",
                marker.display()
            );
        }
    }
    Ok(())
}

fn write_marker(path: &Path, token: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, token).with_context(|| format!("writing {}", path.display()))
}
