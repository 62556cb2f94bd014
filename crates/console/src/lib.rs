//! The web console for people: sign in, see workflows, their graphs, runs, timelines
//! and run history, and operate them — start, stop and resume runs, edit run
//! properties, start and stop job runs, activate triggers, start crawlers. Plain HTML
//! with inline SVG and one small hand-written script (`console.js`, served from here:
//! no framework, no build step, nothing fetched from elsewhere).
//!
//! May depend on: `weir-glue` (its [`App`] and operation handlers), `weir-auth` (the
//! credentials in force), `weir-orchestrator` (rendering runs as the API answers them),
//! `weir-resources`, `weir-store`, `weir-model`. Must not: change anything except
//! through the Glue operation handlers (plus its own session key), or be depended on
//! by a service.
//!
//! | route | page |
//! |---|---|
//! | `GET/POST /console/sign-in`, `POST /console/sign-out`, `POST /console/region` | session |
//! | `GET /console` | workflows (name, last run, created), `?after=<name>` pages on |
//! | `GET /console/workflows/{name}` | graph, start form, triggers, runs; `/grid`: run history |
//! | `GET /console/workflows/{name}/runs/{run id}` | the live run graph, stop/resume/properties |
//! | `…/runs/{run id}/live` | the run page's changing parts as JSON, polled by `console.js` |
//! | `…/runs/{run id}/timeline` | a Gantt chart of the run's job runs and crawls |
//! | `GET /console/jobs/{name}`, `/console/crawlers` | job runs (start/stop), crawlers (start/stop) |
//! | `GET /console/crawlers/{name}` | a crawler's targets and crawl history |
//! | `GET /console/databases`, `…/{db}`, `…/{db}/tables/{table}` | the catalog: tables, columns, partitions |
//! | `GET /console/blueprints` | blueprints and their runs |
//! | `GET /console/jobs/{job}/runs/{jr_…}` | a job run and the latest lines of its CloudWatch Logs streams, followed live |
//! | `GET /console/jobs/{job}/runs/{jr_…}/stdout` (`/stderr`) | a job run's log, `text/plain` |
//! | `POST …/start`, `…/stop`, `…/resume`, `…/properties` | actions (see [`actions`]) |
//!
//! # Sessions and scope
//! Every page but sign-in needs a session ([`session`]): a signed, HttpOnly,
//! SameSite=Strict cookie naming an access key of the credentials in force (the
//! development pair `test`/`test` on loopback) and a region, expiring on the server's
//! clock. Pages and actions act in that key's account and the session's region: another
//! account's resources are not found (404). Every state-changing request is a POST whose
//! form carries the session's CSRF token; one without it is refused (403). Without
//! authentication (`--no-auth`) no sign-in is asked, the pages act in the default
//! account and region, and a banner says so. A page asked for without a session sends
//! the person to sign-in with the page as `?next=` (a console path only), and back
//! there once signed in.
//!
//! Every action runs the same operation handler the API runs
//! ([`weir_glue::protocol::run`]), so validation, effects and error messages are the
//! API's; a refusal is shown with the API's error code and message.
//!
//! Logs are addressed by job and job run id (`jr_` and 64 hex digits, checked before a
//! path is built, and the job run must exist in the session's scope), so no request can
//! name a file outside `<data-dir>/job-runs/<id>/` or another account's logs. A log
//! larger than [`MAX_LOG_BYTES`] is served as its tail.

#![warn(missing_docs)]

mod access;
mod actions;
mod catalog;
mod html;
pub mod layout;
mod live;
mod pages;
pub mod session;
mod svg;
mod throttle;
mod timeline;

use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use weir_auth::CredentialRegistry;
use weir_store::{Kind, Scope};

use weir_glue::App;
use weir_resources::ApiError;

/// Largest part of a log served; a longer log is served as its last this many bytes.
pub const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// Security headers of every console answer: scripts and fetches from the console only,
/// no framing, forms post only to the console.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
                   style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; \
                   base-uri 'none'; form-action 'self'";

/// Who the console serves, decided by the binary from its authentication mode.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// The credentials sign-in checks (those the API verifies against).
    pub credentials: Arc<CredentialRegistry>,
    /// `--no-auth`: no sign-in; every page acts in [`ConsoleSettings::scope`].
    pub open: bool,
    /// The default account and region (`--account-id`, `--region`): the scope of an
    /// open console, and the region a sign-in form offers first.
    pub scope: Scope,
    /// The data directory, where job-run logs are.
    pub data_dir: PathBuf,
}

/// The state of every console page.
#[derive(Clone)]
struct Console {
    app: App,
    settings: Arc<ConsoleSettings>,
    /// The session key, read from (or made in) the store's settings on first use.
    key: Arc<tokio::sync::OnceCell<session::SessionKey>>,
    /// Failed sign-ins per access key.
    throttle: Arc<throttle::SignInThrottle>,
}

/// The console's routes, to be merged into the edge's pages.
pub fn routes(app: App, settings: ConsoleSettings) -> Router {
    let console = Console {
        app,
        settings: Arc::new(settings),
        key: Arc::new(tokio::sync::OnceCell::new()),
        throttle: Arc::new(throttle::SignInThrottle::default()),
    };
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(index))
        .route(
            access::SIGN_IN_PATH,
            get(access::sign_in_page).post(access::sign_in),
        )
        .route("/console/sign-out", post(access::sign_out))
        .route("/console/region", post(access::switch_region))
        .route("/console/static/console.js", get(script))
        .route("/console/workflows/{name}", get(workflow))
        .route("/console/workflows/{name}/grid", get(timeline::grid))
        .route("/console/workflows/{name}/start", post(actions::start_run))
        .route("/console/workflows/{name}/runs/{run_id}", get(run))
        .route(
            "/console/workflows/{name}/runs/{run_id}/live",
            get(live::run_state),
        )
        .route(
            "/console/workflows/{name}/runs/{run_id}/timeline",
            get(timeline::timeline),
        )
        .route(
            "/console/workflows/{name}/runs/{run_id}/stop",
            post(actions::stop_run),
        )
        .route(
            "/console/workflows/{name}/runs/{run_id}/resume",
            post(actions::resume_run),
        )
        .route(
            "/console/workflows/{name}/runs/{run_id}/properties",
            post(actions::put_properties),
        )
        .route("/console/jobs/{name}", get(job))
        .route("/console/jobs/{name}/start", post(actions::start_job_run))
        .route(
            "/console/jobs/{name}/runs/{id}/stop",
            post(actions::stop_job_run),
        )
        .route("/console/jobs/{name}/runs/{id}", get(job_run))
        .route("/console/jobs/{name}/runs/{id}/{stream}", get(log))
        .route(
            "/console/triggers/{name}/{action}",
            post(actions::trigger_action),
        )
        .route("/console/crawlers", get(crawlers))
        .route("/console/crawlers/{name}", get(crawler))
        .route("/console/databases", get(databases))
        .route("/console/databases/{name}", get(database))
        .route("/console/databases/{database}/tables/{table}", get(table))
        .route("/console/blueprints", get(blueprints))
        .route(
            "/console/crawlers/{name}/{action}",
            post(actions::crawler_action),
        )
        .with_state(console)
        .layer(axum::middleware::from_fn(access::remember_the_page))
}

/// Why a console page cannot be shown.
#[derive(Debug)]
enum ConsoleError {
    /// No valid session: to the sign-in page (303), or 401 for the live JSON.
    SignIn,
    /// 404 with a message for the person.
    NotFound(String),
    /// 400: a malformed query string or form.
    BadRequest(String),
    /// 403: a state-changing request without the session's CSRF token.
    Forbidden(String),
    /// An operation handler refused an action: its code and message, with a link back.
    Refused(ApiError, String),
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
        let (status, body) = match self {
            ConsoleError::SignIn => {
                let mut response = respond(StatusCode::SEE_OTHER, "text/plain", Vec::new());
                response.headers_mut().insert(
                    header::LOCATION,
                    HeaderValue::from_static(access::SIGN_IN_PATH),
                );
                return response;
            }
            ConsoleError::NotFound(m) => (StatusCode::NOT_FOUND, html::escape(&m)),
            ConsoleError::BadRequest(m) => (StatusCode::BAD_REQUEST, html::escape(&m)),
            ConsoleError::Forbidden(m) => (StatusCode::FORBIDDEN, html::escape(&m)),
            ConsoleError::Refused(error, back) => (
                error.status(),
                format!(
                    "<div class=\"error\" id=\"refusal\"><strong>{}</strong>: {}</div>\
                     <p>{}</p>",
                    html::escape(error.code()),
                    html::escape(&error.to_string()),
                    html::link(&back, "Back")
                ),
            ),
            ConsoleError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                html::escape("The page could not be built; the server log says why."),
            ),
        };
        let title = status.canonical_reason().unwrap_or("Error");
        let body = if body.starts_with('<') {
            body
        } else {
            format!("<p id=\"message\">{body}</p>")
        };
        let crumbs = [("/console".to_string(), "Workflows".to_string())];
        let page = html::page(title, &crumbs, &body, None);
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

/// The console's script: live updates of run pages and picking nodes on a graph.
async fn script() -> Response {
    respond(
        StatusCode::OK,
        "text/javascript; charset=utf-8",
        include_bytes!("console.js").to_vec(),
    )
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
    headers: HeaderMap,
    query: Result<Query<IndexQuery>, QueryRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let after = query?.0.after;
            Ok(pages::index(&console.app, &viewer, after).await?)
        }
        .await,
    )
}

async fn workflow(
    State(console): State<Console>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path(name) = name?;
            let before = match query?.0.before {
                Some(text) => Some(pages::parse_cursor(&text).ok_or_else(|| {
                    ConsoleError::BadRequest("The run cursor is not valid.".into())
                })?),
                None => None,
            };
            Ok(pages::workflow(&console.app, &viewer, name, before).await?)
        }
        .await,
    )
}

async fn run(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path((name, run_id)) = path?;
            Ok(pages::run(&console.app, &viewer, name, run_id).await?)
        }
        .await,
    )
}

async fn job(
    State(console): State<Console>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path(name) = name?;
            Ok(pages::job(&console.app, &viewer, name).await?)
        }
        .await,
    )
}

async fn job_run(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path((name, id)) = path?;
            Ok(pages::job_run(&console.app, &viewer, name, id).await?)
        }
        .await,
    )
}

async fn crawlers(State(console): State<Console>, headers: HeaderMap) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            Ok(pages::crawlers(&console.app, &viewer).await?)
        }
        .await,
    )
}

async fn crawler(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path(name) = path?;
            Ok(catalog::crawler(&console.app, &viewer, name).await?)
        }
        .await,
    )
}

async fn databases(State(console): State<Console>, headers: HeaderMap) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            Ok(catalog::databases(&console.app, &viewer).await?)
        }
        .await,
    )
}

async fn database(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path(name) = path?;
            Ok(catalog::database(&console.app, &viewer, name).await?)
        }
        .await,
    )
}

async fn table(
    State(console): State<Console>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            let Path((database, name)) = path?;
            Ok(catalog::table(&console.app, &viewer, database, name).await?)
        }
        .await,
    )
}

async fn blueprints(State(console): State<Console>, headers: HeaderMap) -> Response {
    html_page(
        async {
            let viewer = console.viewer(&headers).await?;
            Ok(catalog::blueprints(&console.app, &viewer).await?)
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
    headers: HeaderMap,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Response {
    let result = async {
        let viewer = console.viewer(&headers).await?;
        let Path((job, id, stream)) = path?;
        let stream = match stream.as_str() {
            "stdout" => "stdout",
            "stderr" => "stderr",
            _ => return Err(ConsoleError::NotFound("No such log.".into())),
        };
        if !is_job_run_id(&id) {
            return Err(ConsoleError::NotFound("No such job run.".into()));
        }
        let scope = viewer.scope.clone();
        let (key_job, key_id) = (job.clone(), id.clone());
        let exists = console
            .app
            .read(move |tx| {
                Ok(tx.get(&scope, Kind::Job, &key_job)?.is_some()
                    && tx.get_job_run(&scope, &key_job, &key_id)?.is_some())
            })
            .await?;
        if !exists {
            return Err(ConsoleError::NotFound(format!(
                "Job {job} has no run {id} in this account and region."
            )));
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
