//! Resident memory: an empty server, 10,000 stored workflows at rest, after read load,
//! after a restart, the peer with the same workflows, and what the other sections saw.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use super::api::{self, Op};
use crate::glue;
use crate::procfs::mib;
use crate::report::{Report, Table, thousands};
use crate::servers::Server;

/// Connections of bulk creation.
const BULK_CONNECTIONS: usize = 64;
/// Pause before a reading "at rest".
const SETTLE: Duration = Duration::from_secs(2);

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("Resident memory (VmRSS)");
    let n = ctx.sizes.memory_workflows;
    let data_dir = ctx.data_dir("memory");
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    tokio::time::sleep(SETTLE).await;
    let empty = weir.rss_kib()?;
    ctx.observe_memory(&weir, "memory: empty store, at rest");
    glue::bulk(
        weir.addr,
        "CreateWorkflow",
        n,
        BULK_CONNECTIONS,
        |i| json!({ "Name": format!("mem-{i:06}") }),
        None,
    )
    .await?;
    tokio::time::sleep(SETTLE).await;
    ctx.observe_memory(
        &weir,
        &format!("memory: {} workflows, at rest", thousands(n)),
    );
    api::setup(&weir).await?;
    for op in [Op::GetWorkflow, Op::ListWorkflows] {
        api::measure(ctx, &weir, op, 64).await?;
    }
    tokio::time::sleep(SETTLE).await;
    ctx.observe_memory(
        &weir,
        &format!(
            "memory: {} workflows, after GetWorkflow/ListWorkflows at 64 connections",
            thousands(n)
        ),
    );
    weir.stop()?;
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    tokio::time::sleep(SETTLE).await;
    let restarted = weir.rss_kib()?;
    ctx.observe_memory(
        &weir,
        &format!("memory: restarted on {} workflows, at rest", thousands(n)),
    );
    weir.stop()?;

    let mut moto_rss = None;
    if let Some(bin) = &ctx.moto {
        let moto = Server::moto(bin, &ctx.work.join("moto-memory.log"))?;
        tokio::time::sleep(SETTLE).await;
        let moto_empty = moto.rss_kib()?;
        glue::bulk(
            moto.addr,
            "CreateWorkflow",
            n,
            BULK_CONNECTIONS,
            |i| json!({ "Name": format!("mem-{i:06}") }),
            None,
        )
        .await?;
        tokio::time::sleep(SETTLE).await;
        moto_rss = Some((moto_empty, moto.rss_kib()?));
        moto.stop()?;
    }

    report.note(
        "Every figure is the server process's VmRSS (and VmHWM, its peak so far) from \
         /proc/<pid>/status, taken when the section named in the row had just finished \
         (sections that were not run leave no row). Weir keeps no resource or run in memory: \
         everything lives in SQLite (page cache: SQLite's default 2 MiB per connection, 1 \
         writer + 4 readers), so memory should follow live work (connections, running \
         runs), not stored history.",
    );
    let mut table = Table::new(&["Weir server", "VmRSS", "VmHWM (peak)"]);
    for point in &ctx.memory {
        table.row(vec![
            point.when.clone(),
            mib(point.rss_kib),
            mib(point.peak_kib),
        ]);
    }
    report.table(&table);
    if let Some((moto_empty, moto_full)) = moto_rss {
        report.note(&format!(
            "\nPeer: moto_server {} empty, {} with the same {} workflows (in memory, not durable).",
            mib(moto_empty),
            mib(moto_full),
            thousands(n)
        ));
    }
    let limit = 2 * empty;
    report.check(
        &format!("RSS at rest after restart with {} workflows", thousands(n)),
        format!("{} (empty store: {})", mib(restarted), mib(empty)),
        "≤ 2× the empty server (memory follows live state, not stored state)",
        restarted <= limit,
    );
    if let Some(point) = ctx
        .memory
        .iter()
        .find(|p| p.when.starts_with("scale: restarted"))
    {
        report.check(
            "RSS at rest after restart on the scale data",
            format!("{} (empty store: {})", mib(point.rss_kib), mib(empty)),
            "≤ 2× the empty server",
            point.rss_kib <= limit,
        );
    }
    Ok(())
}
