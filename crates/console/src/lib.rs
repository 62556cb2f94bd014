//! A read-only web console for people: workflows, their graphs, runs and job-run logs,
//! as plain HTML with inline SVG (no JavaScript).
//!
//! May depend on: `weir-glue` (its [`App`] and the stored forms it reads),
//! `weir-orchestrator` (rendering runs as the API answers them), `weir-resources`,
//! `weir-store`, `weir-model`. Must not: write anything, or be depended on by a service.
//!
//! | route | page |
//! |---|---|
//! | `GET /console` | workflows (name, last run, created), `?after=<name>` pages on |
//! | `GET /console/workflows/{name}` | the static graph and the runs, newest first |
//! | `GET /console/workflows/{name}/runs/{run id}` | the run graph coloured by state, job runs |
//! | `GET /console/job-runs/{jr_…}/stdout` (`/stderr`) | a job run's log, `text/plain` |
//!
//! # Scope and access
//! The console is for a **local or development deployment**. It shows the server's
//! default scope (`--account-id`, `--region`) and is not authenticated: the AWS Glue API,
//! with its SigV4-signed requests, is the authenticated interface. To keep a shared
//! deployment from exposing the default account, the console answers only when the
//! server listens on a loopback address or runs with `--no-auth` (where the API is open
//! anyway); otherwise every console route answers 403.
//!
//! Logs are addressed by job run id, which is `jr_` followed by 64 hex digits derived
//! from a random run id; anything else is refused before a path is built, so no request
//! can name a file outside `<data-dir>/job-runs/<id>/`. A log larger than
//! [`MAX_LOG_BYTES`] is served as its tail.
//!
//! Everything is read through [`App::read`] and drawn from the same wire shapes the API
//! answers ([`weir_resources::graph::load`], [`weir_orchestrator::render`]).

#![warn(missing_docs)]

mod html;
pub mod layout;
mod pages;
mod svg;

use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use weir_store::Scope;

use weir_glue::App;
use weir_resources::ApiError;

/// Largest part of a log served; a longer log is served as its last this many bytes.
pub const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// Security headers of every console answer: no scripts, no framing, no sniffing.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Who the console serves, decided by the binary from its listen address and
/// authentication mode.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// Whether pages are shown at all (see the module docs: loopback or `--no-auth`).
    pub served: bool,
    /// The scope the pages show (`--account-id`, `--region`).
    pub scope: Scope,
    /// The data directory, where job-run logs are.
    pub data_dir: PathBuf,
}

/// The state of every console page.
#[derive(Clone)]
struct Console {
    app: App,
    settings: Arc<ConsoleSettings>,
}

/// The console's routes (all `GET`), to be merged into the edge's pages.
pub fn routes(app: App, settings: ConsoleSettings) -> Router {
    let console = Console {
        app,
        settings: Arc::new(settings),
    };
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(index))
        .route("/console/workflows/{name}", get(workflow))
        .route("/console/workflows/{name}/runs/{run_id}", get(run))
        .route("/console/job-runs/{id}/{stream}", get(log))
        .with_state(console)
}

/// Why a console page cannot be shown.
#[derive(Debug)]
enum ConsoleError {
    /// 404 with a message for the person.
    NotFound(String),
    /// 400: a malformed query string.
    BadRequest(String),
    /// 403: the console is not served on this deployment.
    Forbidden(String),
    /// 500; the cause is logged, not shown.
    Internal,
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::EntityNotFound(message) => ConsoleError::NotFound(message),
            other => {
                tracing::error!(error = %other, "console page failed");
                ConsoleError::Internal
            }
        }
    }
}

impl From<PathRejection> for ConsoleError {
    fn from(_: PathRejection) -> Self {
        ConsoleError::NotFound("No such page.".into())
    }
}

impl From<QueryRejection> for ConsoleError {
    fn from(rejection: QueryRejection) -> Self {
        ConsoleError::BadRequest(rejection.body_text())
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ConsoleError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ConsoleError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ConsoleError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            ConsoleError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be built; the server log says why.".into(),
            ),
        };
        let title = status.canonical_reason().unwrap_or("Error");
        let body = format!("<p>{}</p>", html::escape(&message));
        let crumbs = [("/console".to_string(), "Workflows".to_string())];
        let page = html::page(title, &crumbs, &body, false);
        respond(status, "text/html; charset=utf-8", page.into_bytes())
    }
}

/// An answer with the console's headers.
fn respond(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn html_page(result: Result<String, ConsoleError>) -> Response {
    match result {
        Ok(page) => respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            page.into_bytes(),
        ),
        Err(error) => error.into_response(),
    }
}

/// The default scope, if the console is served on this deployment (see module docs).
fn scope(console: &Console) -> Result<Scope, ConsoleError> {
    if !console.settings.served {
        return Err(ConsoleError::Forbidden(
            "The console is served only when Weir listens on a loopback address (or runs \
             with --no-auth). Use the AWS Glue API, which is authenticated."
                .into(),
        ));
    }
    Ok(console.settings.scope.clone())
}

/// `?after=<name>` of the workflow list.
#[derive(Debug, Deserialize)]
struct IndexQuery {
    after: Option<String>,
}

/// `?before=<started ms>.<run id>` of a workflow's run list.
#[derive(Debug, Deserialize)]
struct RunsQuery {
    before: Option<String>,
}

async fn index(
    State(console): State<Console>,
    query: Result<Query<IndexQuery>, QueryRejection>,
) -> Response {
    html_page(
        async {
            let scope = scope(&console)?;
            let after = query?.0.after;
            Ok(pages::index(&console.app, scope, after).await?)
        }
        .await,
    )
}

async fn workflow(
    State(console): State<Console>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> Response {
    html_page(
        async {
            let scope = scope(&console)?;
            let Path(name) = name?;
            let before = match query?.0.before {
                Some(text) => Some(pages::parse_cursor(&text).ok_or_else(|| {
                    ConsoleError::BadRequest("The run cursor is not valid.".into())
                })?),
                None => None,
            };
            Ok(pages::workflow(&console.app, scope, name, before).await?)
        }
        .await,
    )
}

async fn run(
    State(console): State<Console>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    html_page(
        async {
            let scope = scope(&console)?;
            let Path((name, run_id)) = path?;
            Ok(pages::run(&console.app, scope, name, run_id).await?)
        }
        .await,
    )
}

/// Whether `id` is a job run id: `jr_` and 64 lowercase hex digits, nothing else.
pub fn is_job_run_id(id: &str) -> bool {
    id.strip_prefix("jr_").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

async fn log(
    State(console): State<Console>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let result = async {
        scope(&console)?;
        let Path((id, stream)) = path?;
        let stream = match stream.as_str() {
            "stdout" => "stdout",
            "stderr" => "stderr",
            _ => return Err(ConsoleError::NotFound("No such log.".into())),
        };
        if !is_job_run_id(&id) {
            return Err(ConsoleError::NotFound("No such job run.".into()));
        }
        let file = console
            .settings
            .data_dir
            .join("job-runs")
            .join(&id)
            .join(stream);
        read_tail(&file, MAX_LOG_BYTES).await.map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                ConsoleError::NotFound(format!("Job run {id} has no {stream} log (yet)."))
            } else {
                tracing::error!(%error, path = %file.display(), "reading a job-run log failed");
                ConsoleError::Internal
            }
        })
    }
    .await;
    match result {
        Ok(bytes) => {
            let mut response = respond(StatusCode::OK, "text/plain; charset=utf-8", bytes);
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            );
            response
        }
        Err(error) => error.into_response(),
    }
}

/// The file's content, or its last `limit` bytes after a one-line note when longer.
async fn read_tail(path: &std::path::Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut file = tokio::fs::File::open(path).await?;
    let length = file.metadata().await?.len();
    let mut out = Vec::new();
    if length > limit {
        out.extend_from_slice(
            format!(
                "[Weir console: the first {} bytes of this {length}-byte log are not shown]\n",
                length - limit
            )
            .as_bytes(),
        );
        file.seek(SeekFrom::Start(length - limit)).await?;
    }
    // `take` bounds the read even if the file grows meanwhile.
    file.take(limit).read_to_end(&mut out).await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_run_ids_are_validated_strictly() {
        let good = format!("jr_{}", "0123456789abcdef".repeat(4));
        assert!(is_job_run_id(&good));
        for bad in [
            String::new(),
            "jr_".into(),
            format!("jr_{}", "A".repeat(64)),
            format!("jr_{}0", "a".repeat(64)),
            format!("jr_{}", "a".repeat(63)),
            format!("wr_{}", "a".repeat(64)),
            format!("jr_{}/..", "a".repeat(61)),
            format!("jr_../../{}", "a".repeat(58)),
        ] {
            assert!(!is_job_run_id(&bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn logs_are_served_whole_or_as_their_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("stdout");
        std::fs::write(&path, b"0123456789").expect("write");
        assert_eq!(read_tail(&path, 100).await.expect("read"), b"0123456789");
        let tail = read_tail(&path, 4).await.expect("read");
        let text = String::from_utf8(tail).expect("utf-8");
        assert!(
            text.starts_with("[Weir console: the first 6 bytes"),
            "{text}"
        );
        assert!(text.ends_with("]\n6789"), "{text}");
        let missing = read_tail(&dir.path().join("nope"), 4).await;
        assert_eq!(
            missing.map(|_| ()).map_err(|e| e.kind()),
            Err(std::io::ErrorKind::NotFound)
        );
    }
}
