//! Durability: an acknowledged write survives SIGKILL (DESIGN "durable before acknowledged");
//! SIGTERM shuts down cleanly.

use std::collections::HashMap;

use weir_conformance::{WeirServer, expect_error, ok, workflow_arn};

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let mut server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue
        .create_workflow()
        .name("durable")
        .description("must survive")
        .default_run_properties("k", "v")
        .max_concurrent_runs(3)
        .tags("team", "data")
        .send()
        .await);
    ok(glue
        .create_workflow()
        .name("updated")
        .description("old")
        .send()
        .await);
    ok(glue
        .update_workflow()
        .name("updated")
        .description("new")
        .send()
        .await);
    ok(glue.create_workflow().name("deleted").send().await);
    ok(glue.delete_workflow().name("deleted").send().await);
    ok(glue
        .tag_resource()
        .resource_arn(workflow_arn("updated"))
        .tags_to_add("late", "tag")
        .send()
        .await);
    let before = ok(glue.get_workflow().name("durable").send().await)
        .workflow
        .unwrap();

    server.kill9().unwrap();
    server.restart().unwrap();
    let glue = server.client();

    let after = ok(glue.get_workflow().name("durable").send().await)
        .workflow
        .unwrap();
    assert_eq!(after, before, "workflow changed across SIGKILL + restart");
    assert_eq!(after.description(), Some("must survive"));
    assert_eq!(after.max_concurrent_runs(), Some(3));
    assert_eq!(
        ok(glue.get_workflow().name("updated").send().await)
            .workflow
            .unwrap()
            .description(),
        Some("new")
    );
    expect_error(
        glue.get_workflow().name("deleted").send().await,
        "EntityNotFoundException",
    );

    let tags = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        ok(glue
            .get_tags()
            .resource_arn(workflow_arn("durable"))
            .send()
            .await)
        .tags,
        Some(tags(&[("team", "data")]))
    );
    assert_eq!(
        ok(glue
            .get_tags()
            .resource_arn(workflow_arn("updated"))
            .send()
            .await)
        .tags,
        Some(tags(&[("late", "tag")]))
    );
    let mut names = ok(glue.list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    names.sort();
    assert_eq!(names, ["durable", "updated"]);

    // The restarted server keeps accepting writes, which again survive a crash.
    ok(glue.create_workflow().name("second-life").send().await);
    server.kill9().unwrap();
    server.restart().unwrap();
    ok(server
        .client()
        .get_workflow()
        .name("second-life")
        .send()
        .await);
}

#[tokio::test]
async fn sigterm_stops_cleanly_and_keeps_data() {
    let mut server = WeirServer::start().unwrap();
    ok(server.client().create_workflow().name("kept").send().await);
    let status = server.terminate().unwrap();
    assert!(status.success(), "weir exited with {status} on SIGTERM");
    server.restart().unwrap();
    ok(server.client().get_workflow().name("kept").send().await);
}

#[tokio::test]
async fn a_data_dir_can_be_reopened_by_a_new_process() {
    let dir = tempfile::tempdir().unwrap();
    {
        let server = WeirServer::start_in(dir.path()).unwrap();
        ok(server
            .client()
            .create_workflow()
            .name("persisted")
            .send()
            .await);
        // Dropped here: the harness SIGKILLs it.
    }
    let server = WeirServer::start_in(dir.path()).unwrap();
    let wf = ok(server
        .client()
        .get_workflow()
        .name("persisted")
        .send()
        .await)
    .workflow
    .unwrap();
    assert_eq!(wf.name(), Some("persisted"));
}

#[tokio::test]
async fn after_sigterm_the_database_file_alone_holds_every_change() {
    let mut server = WeirServer::start().unwrap();
    ok(server
        .client()
        .create_workflow()
        .name("backed-up")
        .description("copied with weir.db only")
        .send()
        .await);
    // After a crash, the README says to start and stop Weir once before copying.
    server.kill9().unwrap();
    server.restart().unwrap();
    ok(server
        .client()
        .create_workflow()
        .name("after-the-crash")
        .send()
        .await);
    let status = server.terminate().unwrap();
    assert!(status.success(), "weir exited with {status} on SIGTERM");
    // A backup made the way the README says: the stopped server's weir.db, nothing else.
    let backup = tempfile::tempdir().unwrap();
    std::fs::copy(
        server.data_dir().join("weir.db"),
        backup.path().join("weir.db"),
    )
    .unwrap();
    let restored = WeirServer::start_in(backup.path()).unwrap();
    let wf = ok(restored
        .client()
        .get_workflow()
        .name("backed-up")
        .send()
        .await)
    .workflow
    .unwrap();
    assert_eq!(wf.description(), Some("copied with weir.db only"));
    ok(restored
        .client()
        .get_workflow()
        .name("after-the-crash")
        .send()
        .await);
}

#[tokio::test]
async fn a_running_server_is_backed_up_with_the_sqlite3_shell() {
    if std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no sqlite3 command-line shell on PATH");
        return;
    }
    let server = WeirServer::start().unwrap();
    ok(server
        .client()
        .create_workflow()
        .name("online")
        .send()
        .await);
    let backup = tempfile::tempdir().unwrap();
    let target = backup.path().join("weir.db");
    let output = std::process::Command::new("sqlite3")
        .arg(server.data_dir().join("weir.db"))
        .arg(format!(".backup '{}'", target.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "sqlite3 .backup: {output:?}");
    let restored = WeirServer::start_in(backup.path()).unwrap();
    ok(restored.client().get_workflow().name("online").send().await);
    // The original keeps serving.
    ok(server.client().get_workflow().name("online").send().await);
}
