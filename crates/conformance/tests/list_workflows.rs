//! ListWorkflows pagination (spec §1.7): MaxResults 1..25, unique tokens, no NextToken on
//! the last page, invalid tokens rejected.

use std::collections::{BTreeSet, HashSet};

use weir_conformance::{WeirServer, expect_error, ok};

const COUNT: usize = 30;

async fn server_with_workflows() -> (WeirServer, aws_sdk_glue::Client, BTreeSet<String>) {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let mut names = BTreeSet::new();
    for i in 0..COUNT {
        let name = format!("wf-{i:02}");
        ok(glue.create_workflow().name(&name).send().await);
        names.insert(name);
    }
    (server, glue, names)
}

/// Walks every page by hand, checking page size and token uniqueness.
async fn walk(glue: &aws_sdk_glue::Client, max_results: Option<i32>) -> Vec<String> {
    let mut seen = Vec::new();
    let mut tokens = HashSet::new();
    let mut token: Option<String> = None;
    for _page in 0..=2 * COUNT {
        let out = ok(glue
            .list_workflows()
            .set_max_results(max_results)
            .set_next_token(token.clone())
            .send()
            .await);
        let limit = max_results.unwrap_or(25) as usize;
        assert!(
            out.workflows().len() <= limit,
            "page of {} > {limit}",
            out.workflows().len()
        );
        seen.extend(out.workflows().iter().cloned());
        match out.next_token() {
            None => return seen,
            Some(next) => {
                assert!(
                    !next.is_empty(),
                    "an empty NextToken must be omitted instead"
                );
                assert!(
                    tokens.insert(next.to_string()),
                    "NextToken {next:?} repeated"
                );
                token = Some(next.to_string());
            }
        }
    }
    panic!("pagination did not end after {} pages", 2 * COUNT + 1);
}

#[track_caller]
fn assert_each_once(seen: &[String], expected: &BTreeSet<String>) {
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "a name was listed twice: {seen:?}"
    );
    assert_eq!(&unique, expected);
}

#[tokio::test]
async fn manual_paging_lists_every_name_once_for_each_page_size() {
    let (_server, glue, names) = server_with_workflows().await;
    for max in [1, 2, 7, 24, 25] {
        let seen = walk(&glue, Some(max)).await;
        assert_each_once(&seen, &names);
    }
    // No MaxResults: the server picks the page size (at most the model's 25).
    assert_each_once(&walk(&glue, None).await, &names);
}

#[tokio::test]
async fn sdk_paginator_lists_every_name_once() {
    let (_server, glue, names) = server_with_workflows().await;
    for size in [1, 4, 25] {
        let pages: Vec<_> = glue
            .list_workflows()
            .into_paginator()
            .page_size(size)
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap_or_else(|e| panic!("paginator (page size {size}) failed: {e:?}"));
        assert!(
            pages.len() >= COUNT.div_ceil(size as usize),
            "too few pages for size {size}"
        );
        assert!(
            pages.last().unwrap().next_token().is_none(),
            "last page carries a NextToken"
        );
        let seen: Vec<String> = pages
            .iter()
            .flat_map(|p| p.workflows().iter().cloned())
            .collect();
        assert_each_once(&seen, &names);
    }
}

#[tokio::test]
async fn a_single_page_has_no_next_token() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();

    let empty = ok(glue.list_workflows().send().await);
    assert!(empty.workflows().is_empty());
    assert_eq!(empty.next_token(), None);

    ok(glue.create_workflow().name("only").send().await);
    let one = ok(glue.list_workflows().max_results(25).send().await);
    assert_eq!(one.workflows(), ["only"]);
    assert_eq!(one.next_token(), None);

    // A page that is exactly full may carry a token, but that token must then lead to an
    // empty page without one.
    let full = ok(glue.list_workflows().max_results(1).send().await);
    assert_eq!(full.workflows(), ["only"]);
    if let Some(token) = full.next_token() {
        let rest = ok(glue
            .list_workflows()
            .max_results(1)
            .next_token(token)
            .send()
            .await);
        assert!(rest.workflows().is_empty());
        assert_eq!(rest.next_token(), None);
    }
}

#[tokio::test]
async fn max_results_outside_1_to_25_is_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    for bad in [0, -1, 26, 1000] {
        let err = expect_error(
            glue.list_workflows().max_results(bad).send().await,
            "InvalidInputException",
        );
        assert!(err.is_invalid_input_exception(), "MaxResults {bad}");
    }
}

#[tokio::test]
async fn foreign_or_tampered_next_token_is_invalid_input() {
    let (_server, glue, _names) = server_with_workflows().await;
    let first = ok(glue.list_workflows().max_results(5).send().await);
    let token = first
        .next_token()
        .expect("30 workflows in pages of 5 need a NextToken");

    // Flip one character in the middle of a genuine token.
    let mut chars: Vec<char> = token.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();

    for bad in [
        "not-a-token".to_string(),
        "eyJvZmZzZXQiOjF9".to_string(), // base64 of {"offset":1}
        tampered,
        format!("{token}x"),
    ] {
        expect_error(
            glue.list_workflows()
                .max_results(5)
                .next_token(&bad)
                .send()
                .await,
            "InvalidInputException",
        );
    }
}
