//! Two accounts on one server (a credentials file with a key pair in each): every
//! resource lives in the account of the key that created it, and the other account
//! sees none of it — List*, Get*, BatchGet*, and tags on its ARNs (spec §10).

use std::io::Write;

use aws_sdk_glue::types::{Action, JobCommand, TriggerType};
use weir_conformance::{REGION, WeirServer, expect_error, ok};

const ALICE: (&str, &str, &str) = ("AKIAWEIRALICE", "alice-secret", "111111111111");
const BOB: (&str, &str, &str) = ("AKIAWEIRBOB", "bob-secret", "222222222222");

fn two_account_server() -> (WeirServer, aws_sdk_glue::Client, aws_sdk_glue::Client) {
    let mut file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    let entries: Vec<serde_json::Value> = [ALICE, BOB]
        .iter()
        .map(|(key, secret, account)| {
            serde_json::json!({"access_key_id": key, "secret_access_key": secret, "account_id": account})
        })
        .collect();
    write!(file, "{}", serde_json::json!({ "credentials": entries })).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let server = WeirServer::start_with_args(&["--credentials", &path]).unwrap();
    // The server has read the file; it is not needed any more.
    drop(file);
    let alice = server.client_with(ALICE.0, ALICE.1, None, REGION);
    let bob = server.client_with(BOB.0, BOB.1, None, REGION);
    (server, alice, bob)
}

fn arn(account: &str, kind: &str, name: &str) -> String {
    format!("arn:aws:glue:{REGION}:{account}:{kind}/{name}")
}

#[tokio::test]
async fn workflows_and_their_tags_are_private_to_an_account() {
    let (_server, alice, bob) = two_account_server();
    ok(alice
        .create_workflow()
        .name("shared-name")
        .tags("owner", "alice")
        .send()
        .await);
    ok(alice.create_workflow().name("alice-only").send().await);
    // The same name in another account is another workflow.
    ok(bob
        .create_workflow()
        .name("shared-name")
        .description("bob's")
        .send()
        .await);

    let alice_list = ok(alice.list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    let mut alice_list = alice_list;
    alice_list.sort();
    assert_eq!(
        alice_list,
        vec!["alice-only".to_string(), "shared-name".to_string()]
    );
    let bob_list = ok(bob.list_workflows().send().await)
        .workflows
        .unwrap_or_default();
    assert_eq!(bob_list, vec!["shared-name".to_string()]);

    let bobs = ok(bob.get_workflow().name("shared-name").send().await)
        .workflow
        .unwrap();
    assert_eq!(bobs.description(), Some("bob's"));
    expect_error(
        bob.get_workflow().name("alice-only").send().await,
        "EntityNotFoundException",
    );
    expect_error(
        bob.update_workflow()
            .name("alice-only")
            .description("mine now")
            .send()
            .await,
        "EntityNotFoundException",
    );
    expect_error(
        bob.start_workflow_run().name("alice-only").send().await,
        "EntityNotFoundException",
    );
    let batch = ok(bob
        .batch_get_workflows()
        .names("alice-only")
        .names("shared-name")
        .send()
        .await);
    let found: Vec<_> = batch.workflows().iter().filter_map(|w| w.name()).collect();
    assert_eq!(found, vec!["shared-name"]);
    assert_eq!(batch.missing_workflows(), ["alice-only".to_string()]);

    // Tags: Alice's ARN is unknown to Bob; Bob's own ARN of the same name is his.
    let alice_arn = arn(ALICE.2, "workflow", "shared-name");
    expect_error(
        bob.get_tags().resource_arn(&alice_arn).send().await,
        "EntityNotFoundException",
    );
    expect_error(
        bob.tag_resource()
            .resource_arn(&alice_arn)
            .tags_to_add("owner", "bob")
            .send()
            .await,
        "EntityNotFoundException",
    );
    expect_error(
        bob.untag_resource()
            .resource_arn(&alice_arn)
            .tags_to_remove("owner")
            .send()
            .await,
        "EntityNotFoundException",
    );
    let alice_tags = ok(alice.get_tags().resource_arn(&alice_arn).send().await)
        .tags
        .unwrap_or_default();
    assert_eq!(alice_tags.get("owner").map(String::as_str), Some("alice"));
    let bob_arn = arn(BOB.2, "workflow", "shared-name");
    ok(bob
        .tag_resource()
        .resource_arn(&bob_arn)
        .tags_to_add("owner", "bob")
        .send()
        .await);
    expect_error(
        alice.get_tags().resource_arn(&bob_arn).send().await,
        "EntityNotFoundException",
    );

    // Deleting in one account leaves the other's workflow alone (DeleteWorkflow of an
    // unknown name succeeds, as in AWS).
    ok(bob.delete_workflow().name("alice-only").send().await);
    ok(alice.get_workflow().name("alice-only").send().await);
}

#[tokio::test]
async fn jobs_and_triggers_are_private_to_an_account() {
    let (_server, alice, bob) = two_account_server();
    let command = JobCommand::builder()
        .name("pythonshell")
        .script_location("s3://bucket/script.py")
        .build();
    ok(alice
        .create_job()
        .name("etl")
        .role("role")
        .command(command.clone())
        .tags("owner", "alice")
        .send()
        .await);
    ok(alice
        .create_trigger()
        .name("go")
        .r#type(TriggerType::OnDemand)
        .actions(Action::builder().job_name("etl").build())
        .send()
        .await);

    expect_error(
        bob.get_job().job_name("etl").send().await,
        "EntityNotFoundException",
    );
    assert!(ok(bob.list_job_names_compat().await).is_empty());
    let jobs = ok(bob.get_jobs().send().await);
    assert!(jobs.jobs().is_empty(), "{jobs:?}");
    let batch = ok(bob.batch_get_jobs().job_names("etl").send().await);
    assert!(batch.jobs().is_empty());
    assert_eq!(batch.jobs_not_found(), ["etl".to_string()]);
    expect_error(
        bob.start_job_run().job_name("etl").send().await,
        "EntityNotFoundException",
    );

    expect_error(
        bob.get_trigger().name("go").send().await,
        "EntityNotFoundException",
    );
    let triggers = ok(bob.list_triggers().send().await);
    assert!(triggers.trigger_names().is_empty(), "{triggers:?}");
    let triggers = ok(bob.get_triggers().send().await);
    assert!(triggers.triggers().is_empty(), "{triggers:?}");
    let batch = ok(bob.batch_get_triggers().trigger_names("go").send().await);
    assert!(batch.triggers().is_empty());
    assert_eq!(batch.triggers_not_found(), ["go".to_string()]);
    expect_error(
        bob.start_trigger().name("go").send().await,
        "EntityNotFoundException",
    );

    for (kind, name) in [("job", "etl"), ("trigger", "go")] {
        let foreign = arn(ALICE.2, kind, name);
        expect_error(
            bob.get_tags().resource_arn(&foreign).send().await,
            "EntityNotFoundException",
        );
        expect_error(
            bob.tag_resource()
                .resource_arn(&foreign)
                .tags_to_add("k", "v")
                .send()
                .await,
            "EntityNotFoundException",
        );
        ok(alice.get_tags().resource_arn(&foreign).send().await);
    }

    // Bob may use the same names for his own resources.
    ok(bob
        .create_job()
        .name("etl")
        .role("role")
        .command(command)
        .send()
        .await);
    let alice_job = ok(alice.get_job().job_name("etl").send().await)
        .job
        .unwrap();
    assert_eq!(
        alice_job.command().and_then(|c| c.name()),
        Some("pythonshell")
    );
    let names = ok(alice.list_job_names_compat().await);
    assert_eq!(names, vec!["etl".to_string()]);
}

/// `ListJobs` names, in a helper so both clients read the same way.
trait ListJobNames {
    async fn list_job_names_compat(
        &self,
    ) -> Result<
        Vec<String>,
        weir_conformance::SdkError<aws_sdk_glue::operation::list_jobs::ListJobsError>,
    >;
}

impl ListJobNames for aws_sdk_glue::Client {
    async fn list_job_names_compat(
        &self,
    ) -> Result<
        Vec<String>,
        weir_conformance::SdkError<aws_sdk_glue::operation::list_jobs::ListJobsError>,
    > {
        self.list_jobs()
            .send()
            .await
            .map(|out| out.job_names.unwrap_or_default())
    }
}
