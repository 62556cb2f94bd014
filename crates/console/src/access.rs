//! Who is looking: the session of a request ([`Console::viewer`]), CSRF checks of
//! state-changing requests ([`Console::acting`]), and the sign-in, sign-out and region
//! switcher handlers.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use weir_store::{Scope, Setting};

use super::html::{self, Frame, escape};
use super::session::{self, Claims, SessionKey};
use super::{Console, ConsoleError, html_page, respond};

/// The person behind a request: the scope every page and action of theirs acts in.
pub(crate) struct Viewer {
    /// The account (of the signed-in key) and region (of the session).
    pub scope: Scope,
    /// The signed-in access key id; `None` on an open console (`--no-auth`).
    pub access_key: Option<String>,
    /// The CSRF token of the session, for the forms of its pages.
    pub csrf: String,
}

impl Viewer {
    /// The page frame of this viewer.
    pub fn frame(&self) -> Frame<'_> {
        Frame {
            access_key: self.access_key.as_deref(),
            account: &self.scope.account,
            region: &self.scope.region,
            csrf: &self.csrf,
        }
    }
}

/// A form as its fields in order (repeated names, like picked nodes, stay apart).
pub(crate) type Fields = Vec<(String, String)>;

/// The first value of field `name`.
pub(crate) fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find_map(|(k, v)| (k == name).then_some(v.as_str()))
}

impl Console {
    /// The session key, read from the store's settings, or made and stored there the
    /// first time.
    async fn key(&self) -> Result<&SessionKey, ConsoleError> {
        self.key
            .get_or_try_init(|| async {
                let key = self
                    .app
                    .write(|tx| {
                        if let Some(setting) = tx.get_meta(session::SESSION_KEY_SETTING)?
                            && let Some(key) = SessionKey::from_hex(&setting.value)
                        {
                            return Ok(key);
                        }
                        let key = SessionKey::generate();
                        tx.put_meta(
                            session::SESSION_KEY_SETTING,
                            &Setting {
                                value: key.to_hex(),
                                version: 1,
                            },
                        )?;
                        Ok(key)
                    })
                    .await?;
                Ok::<_, ConsoleError>(key)
            })
            .await
    }

    /// The valid, unexpired session of a request and the account of its key.
    async fn session(&self, headers: &HeaderMap) -> Result<Option<(Claims, String)>, ConsoleError> {
        let key = self.key().await?;
        let now = self.app.clock().now_millis();
        let claims = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| session::cookie_value(value, session::COOKIE_NAME))
            .find_map(|cookie| key.open(cookie, now));
        Ok(claims.and_then(|claims| {
            let account = self
                .settings
                .credentials
                .get(&claims.access_key)?
                .account_id()
                .to_string();
            Some((claims, account))
        }))
    }

    /// Who is looking; [`ConsoleError::SignIn`] without a valid session (unless the
    /// console is open).
    pub(crate) async fn viewer(&self, headers: &HeaderMap) -> Result<Viewer, ConsoleError> {
        let key = self.key().await?;
        if self.settings.open {
            return Ok(Viewer {
                scope: self.settings.scope.clone(),
                access_key: None,
                csrf: key.csrf_token(None),
            });
        }
        let (claims, account) = self.session(headers).await?.ok_or(ConsoleError::SignIn)?;
        Ok(Viewer {
            scope: Scope {
                account,
                region: claims.region.clone(),
            },
            csrf: key.csrf_token(Some(&claims)),
            access_key: Some(claims.access_key),
        })
    }

    /// The viewer of a state-changing request, whose form must carry the session's
    /// CSRF token (403 otherwise).
    pub(crate) async fn acting(
        &self,
        headers: &HeaderMap,
        fields: &Fields,
    ) -> Result<Viewer, ConsoleError> {
        let viewer = self.viewer(headers).await?;
        let key = self.key().await?;
        let claims = if self.settings.open {
            None
        } else {
            self.session(headers).await?.map(|(claims, _)| claims)
        };
        let token = field(fields, "csrf").unwrap_or_default();
        if !key.csrf_matches(claims.as_ref(), token) {
            return Err(ConsoleError::Forbidden(
                "This form is missing its security token (or is from another session). \
                 Reload the page and try again."
                    .into(),
            ));
        }
        Ok(viewer)
    }
}

/// A 303 to `location`, optionally setting the session cookie.
pub(crate) fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = respond(StatusCode::SEE_OTHER, "text/plain", Vec::new());
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The sign-in page's path, where a request without a session is sent.
pub(crate) const SIGN_IN_PATH: &str = "/console/sign-in";

/// Sends a person who asked for a page without a session to sign-in with that page as
/// `?next=`, so signing in brings them back to it (GET pages only: an action's form is
/// not replayed).
pub(crate) async fn remember_the_page(request: Request, next: Next) -> Response {
    let wanted = (request.method() == Method::GET)
        .then(|| {
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
        })
        .flatten();
    let mut response = next.run(request).await;
    let to_sign_in = response.status() == StatusCode::SEE_OTHER
        && response
            .headers()
            .get(header::LOCATION)
            .is_some_and(|location| location == SIGN_IN_PATH);
    if let Some(wanted) = wanted.filter(|page| to_sign_in && safe_next(page).is_some())
        && let Ok(location) = HeaderValue::from_str(&format!(
            "{SIGN_IN_PATH}?next={}",
            encode_component(&wanted)
        ))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `page` if it may be redirected to after sign-in: a console page of this server
/// (`/console` or below it), never another host or scheme, nothing that is not plain
/// URI text.
pub(crate) fn safe_next(page: &str) -> Option<&str> {
    let below = page.strip_prefix("/console")?;
    let console_page = below.is_empty() || below.starts_with('/') || below.starts_with('?');
    let plain = page
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'\\' && b != b'"' && b != b'<' && b != b'>');
    (console_page && plain && !page.starts_with(SIGN_IN_PATH)).then_some(page)
}

/// `text` percent-encoded as one query-string value.
fn encode_component(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The query of the sign-in page.
#[derive(serde::Deserialize)]
pub(crate) struct SignInQuery {
    /// The page to go to once signed in.
    next: Option<String>,
}

/// The sign-in form, with an error message after a failed attempt; `next` is carried
/// in the form.
fn sign_in_form(console: &Console, csrf: &str, next: Option<&str>, error: Option<&str>) -> String {
    let error = error
        .map(|m| format!("<div class=\"error\" id=\"refusal\">{}</div>", escape(m)))
        .unwrap_or_default();
    let next = next
        .and_then(safe_next)
        .map(|page| {
            format!(
                "<input type=\"hidden\" name=\"next\" value=\"{}\">",
                escape(page)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "{error}<form class=\"signin\" method=\"post\" action=\"/console/sign-in\">{}{next}\
         <label>Access key ID <input name=\"access_key_id\" id=\"access_key_id\" \
         autocomplete=\"username\" required></label>\
         <label>Secret access key <input name=\"secret_access_key\" id=\"secret_access_key\" \
         type=\"password\" autocomplete=\"current-password\" required></label>\
         <label>Region <select name=\"region\" id=\"region\">{}</select></label>\
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>\
         <p class=\"muted\">Use an access key of the credentials Weir verifies (on a loopback \
         address without --credentials: test / test).</p>",
        html::csrf_field(csrf),
        html::region_options(&console.settings.scope.region),
    );
    html::page("Sign in", &[], &body, None)
}

/// `GET /console/sign-in`.
pub(crate) async fn sign_in_page(
    State(console): State<Console>,
    query: Result<Query<SignInQuery>, QueryRejection>,
) -> Response {
    html_page(
        async {
            let next = query?.0.next;
            if console.settings.open {
                return Err(ConsoleError::NotFound(
                    "Authentication is off (--no-auth): the console needs no sign-in.".into(),
                ));
            }
            let csrf = console.key().await?.sign_in_token();
            Ok(sign_in_form(&console, &csrf, next.as_deref(), None))
        }
        .await,
    )
}

/// `POST /console/sign-in`: checks the key and secret against the credentials in force
/// and starts a session.
pub(crate) async fn sign_in(
    State(console): State<Console>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let result = async {
        let Form(fields) = form.map_err(|e| ConsoleError::BadRequest(e.body_text()))?;
        let key = console.key().await?;
        if console.settings.open {
            return Ok(see_other("/console", None));
        }
        if !key.sign_in_matches(field(&fields, "csrf").unwrap_or_default()) {
            return Err(ConsoleError::Forbidden(
                "The sign-in form is missing its security token.".into(),
            ));
        }
        let access_key = field(&fields, "access_key_id").unwrap_or_default().trim();
        let secret = field(&fields, "secret_access_key").unwrap_or_default();
        let region = field(&fields, "region").unwrap_or_default();
        let next = field(&fields, "next");
        let now = console.app.clock().now_millis();
        if let Some(wait_ms) = console.throttle.locked_for(access_key, now) {
            let message = format!(
                "Too many failed sign-ins for this access key: try again in {} seconds.",
                (wait_ms + 999) / 1000
            );
            let page = sign_in_form(&console, &key.sign_in_token(), next, Some(&message));
            return Ok(respond(
                StatusCode::TOO_MANY_REQUESTS,
                "text/html; charset=utf-8",
                page.into_bytes(),
            ));
        }
        let known = console.settings.credentials.get(access_key);
        let valid = known.is_some_and(|c| key.same_secret(secret, c.secret_access_key()));
        let failure = if !weir_auth::sigv4::is_region_name(region) {
            Some("The region is not a valid region name.")
        } else if !valid {
            Some("The access key ID or secret access key is not valid.")
        } else {
            None
        };
        if let Some(message) = failure {
            console.throttle.failed(access_key, now);
            let page = sign_in_form(&console, &key.sign_in_token(), next, Some(message));
            return Ok(respond(
                StatusCode::UNAUTHORIZED,
                "text/html; charset=utf-8",
                page.into_bytes(),
            ));
        }
        console.throttle.succeeded(access_key);
        let expires = now.saturating_add(session::SESSION_MS);
        let cookie = key.issue(access_key, region, expires);
        Ok(see_other(
            next.and_then(safe_next).unwrap_or("/console"),
            Some(session::set_cookie(Some(&cookie))),
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /console/sign-out`.
pub(crate) async fn sign_out(
    State(console): State<Console>,
    headers: HeaderMap,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let result = async {
        let Form(fields) = form.map_err(|e| ConsoleError::BadRequest(e.body_text()))?;
        console.acting(&headers, &fields).await?;
        Ok::<_, ConsoleError>(see_other(SIGN_IN_PATH, Some(session::set_cookie(None))))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /console/region`: the same session in another region.
pub(crate) async fn switch_region(
    State(console): State<Console>,
    headers: HeaderMap,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let result = async {
        let Form(fields) = form.map_err(|e| ConsoleError::BadRequest(e.body_text()))?;
        console.acting(&headers, &fields).await?;
        let region = field(&fields, "region").unwrap_or_default();
        if !weir_auth::sigv4::is_region_name(region) {
            return Err(ConsoleError::BadRequest(
                "The region is not a valid region name.".into(),
            ));
        }
        if console.settings.open {
            return Err(ConsoleError::BadRequest(
                "Without authentication (--no-auth) the console shows the default region.".into(),
            ));
        }
        let (claims, _) = console
            .session(&headers)
            .await?
            .ok_or(ConsoleError::SignIn)?;
        let key = console.key().await?;
        let cookie = key.issue(&claims.access_key, region, claims.expires_ms);
        Ok(see_other(
            "/console",
            Some(session::set_cookie(Some(&cookie))),
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_pages_of_this_server_are_next() {
        for page in [
            "/console",
            "/console/",
            "/console?after=a",
            "/console/workflows/a%20b/grid",
        ] {
            assert_eq!(safe_next(page), Some(page), "{page}");
        }
        for page in [
            "//evil.example/console",
            "https://evil.example/console",
            "/consolex",
            "/console/\\evil",
            "/console/sign-in?next=/console",
            "/console/a\u{7}b",
            "/console/caf\u{e9}",
            "/console/\"><script>",
            "",
        ] {
            assert_eq!(safe_next(page), None, "{page:?}");
        }
    }
}
