//! HTML building blocks of the console: escaping, URL path segments, timestamps and
//! the page frame. Every string that did not come from this file goes through
//! [`escape`] (text and attribute values alike) or [`segment`] (URL paths).

use std::fmt::Write as _;

use super::svg::{ColouredState, NOT_RUN};

/// Escapes `text` for HTML text and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes `text` as one URL path segment: everything but RFC 3986 unreserved
/// characters is encoded, so `/`, `?`, `#` and `%` cannot change the path.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// An epoch-milliseconds time as `YYYY-MM-DD HH:MM:SS` UTC; `—` when absent.
pub fn time(millis: Option<i64>) -> String {
    let Some(millis) = millis else {
        return "—".to_string();
    };
    let secs = millis.div_euclid(1000);
    let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A link to `href` (already built from [`segment`]s) showing `text` (escaped here).
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", escape(href), escape(text))
}

/// A `<span class="status …">` badge for a run status or job-run state.
pub fn badge<S: ColouredState>(state: Option<&S>) -> String {
    match state {
        Some(state) => format!(
            "<span class=\"badge {}\">{}</span>",
            state.css_class(),
            escape(state.text())
        ),
        None => format!("<span class=\"badge {NOT_RUN}\">—</span>"),
    }
}

/// Who is looking at a page, for its frame: the signed-in key, account and region
/// (with the region switcher and sign-out), or the warning of an open console.
pub struct Frame<'a> {
    /// The access key id of the session; `None` without authentication (`--no-auth`).
    pub access_key: Option<&'a str>,
    /// The account the pages show.
    pub account: &'a str,
    /// The region the pages show.
    pub region: &'a str,
    /// The session's CSRF token, put in every form.
    pub csrf: &'a str,
}

/// Regions offered by the region switcher (with the current one, if not among them).
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// `<option>`s of the regions, `current` selected (and added when not a usual one).
pub fn region_options(current: &str) -> String {
    let mut out = String::new();
    if !REGIONS.contains(&current) {
        let _ = write!(out, "<option selected>{}</option>", escape(current));
    }
    for region in REGIONS {
        let selected = if *region == current { " selected" } else { "" };
        let _ = write!(out, "<option{selected}>{region}</option>");
    }
    out
}

/// The hidden CSRF field of a form.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(token)
    )
}

/// A form of one button that POSTs to `action` (already built from [`segment`]s).
pub fn button_form(action: &str, label: &str, csrf: &str, class: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{}\">{}\
         <button type=\"submit\" class=\"{}\">{}</button></form>",
        escape(action),
        csrf_field(csrf),
        escape(class),
        escape(label)
    )
}

/// A whole page: `title` (escaped here), breadcrumb links `(href, text)` (the last
/// one is the current page), `body` (trusted HTML built by the console) and the frame
/// of the viewer (`None` on the sign-in page).
pub fn page(title: &str, crumbs: &[(String, String)], body: &str, frame: Option<&Frame>) -> String {
    let mut nav = String::new();
    for (i, (href, text)) in crumbs.iter().enumerate() {
        if i > 0 {
            nav.push_str(" / ");
        }
        if i + 1 == crumbs.len() {
            let _ = write!(nav, "<span>{}</span>", escape(text));
        } else {
            nav.push_str(&link(href, text));
        }
    }
    let (user, banner) = match frame {
        Some(frame) => {
            let who = match frame.access_key {
                Some(key) => format!(
                    "<span class=\"who\">{} · account {}</span>{}",
                    escape(key),
                    escape(frame.account),
                    button_form("/console/sign-out", "Sign out", frame.csrf, "link")
                ),
                None => format!(
                    "<span class=\"who\">account {}</span>",
                    escape(frame.account)
                ),
            };
            // Without authentication the pages show the default region only.
            let switcher = if frame.access_key.is_none() {
                String::new()
            } else {
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/console/region\">{}\
                 <label>Region <select name=\"region\" id=\"region\">{}</select></label>\
                 <button type=\"submit\">Switch</button></form>",
                    csrf_field(frame.csrf),
                    region_options(frame.region)
                )
            };
            let banner = if frame.access_key.is_none() {
                "<div class=\"warning\" role=\"alert\">Authentication is off (--no-auth): \
                 anyone who can reach this server can operate these workflows.</div>\n"
            } else {
                ""
            };
            (
                format!(
                    "<nav class=\"sections\">{} {} {} {}</nav>\
                     <div class=\"user\">{who} {switcher}</div>",
                    link("/console", "Workflows"),
                    link("/console/crawlers", "Crawlers"),
                    link("/console/databases", "Catalog"),
                    link("/console/blueprints", "Blueprints"),
                ),
                banner,
            )
        }
        None => (String::new(), ""),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — Weir</title>\n<style>{CSS}</style>\n\
         <script src=\"/console/static/console.js\" defer></script>\n</head>\n<body>\n\
         <header><a class=\"brand\" href=\"/console\">Weir</a> <nav>{nav}</nav>{user}</header>\n\
         {banner}<main>\n<h1>{}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        escape(title),
        escape(title),
    )
}

/// The console's style sheet (inline; the pages load nothing else).
const CSS: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:.6rem 1rem}header a{color:#fff}
header .brand{font-weight:700;margin-right:1rem;text-decoration:none}
header nav span{color:#d0d7de}main{padding:1rem 1.5rem}h1{font-size:1.4rem;word-break:break-all}
h2{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;background:#fff;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#eaeef2}td.msg{max-width:40rem;white-space:pre-wrap;word-break:break-word}
code{font-size:.85rem}.muted{color:#656d76}
footer{color:#656d76;font-size:.8rem;padding:1rem 1.5rem}
.graph svg.workflow-graph{max-width:100%;height:auto;cursor:grab;touch-action:none}
.graph-tools{margin:.3rem 0}.graph-tools button{min-width:2rem;margin-right:.2rem}
.node-details{background:#fff;border:1px solid #d0d7de;padding:.4rem .8rem;margin:.5rem 0}
.node-details dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem;margin:0}
.node-details dt{font-weight:600}.node-details dd{margin:0;word-break:break-word}
.node.selected rect{stroke:#0969da;stroke-width:3}
.graph{overflow:auto;background:#fff;border:1px solid #d0d7de;max-height:80vh}
.badge{padding:.1rem .4rem;border-radius:.6rem;border:1px solid #8c959f;font-size:.8rem}
.node rect{stroke:#57606a;stroke-width:1.2}
.node text{font-size:12px;fill:#1f2328}.node text.kind{font-size:10px;fill:#57606a}
.node.trigger rect{fill:#fff8c5;stroke:#9a6700}.node.static rect{fill:#ddf4ff}
.edge{fill:none;stroke:#57606a;stroke-width:1.3}#arrow path{fill:#57606a}
.succeeded,.node.succeeded rect{background:#aceebb;fill:#aceebb}
.failed,.node.failed rect{background:#ffc1c0;fill:#ffc1c0}
.timeout,.node.timeout rect{background:#ffc680;fill:#ffc680}
.running,.node.running rect{background:#a8d1ff;fill:#a8d1ff}
.stopped,.node.stopped rect{background:#d0d7de;fill:#d0d7de}
.notrun,.node.notrun rect{background:#fff;fill:#fff}
.legend span{margin-right:.4rem}
header{display:flex;align-items:center;gap:1rem;flex-wrap:wrap}header nav{flex:1}
header nav.sections{flex:0 0 auto}header nav.sections a{margin-right:.6rem}
.user{display:flex;gap:.6rem;align-items:center;font-size:.85rem}.user select{font-size:.8rem}
form.inline{display:inline}button.link{background:none;border:none;color:#fff;text-decoration:underline;cursor:pointer}
.warning{background:#fff8c5;border-bottom:1px solid #d4a72c;padding:.5rem 1.5rem}
.error{background:#ffebe9;border:1px solid #ff8182;padding:.5rem 1rem;margin:.5rem 0}
.actions{margin:.8rem 0;display:flex;gap:.8rem;flex-wrap:wrap;align-items:flex-start}
.actions form{background:#fff;border:1px solid #d0d7de;padding:.5rem .8rem}
pre.log{background:#fff;border:1px solid #d0d7de;padding:.5rem;max-height:30rem;overflow:auto;white-space:pre-wrap}
textarea{font-family:ui-monospace,monospace;font-size:.85rem}
.signin{background:#fff;border:1px solid #d0d7de;padding:1rem 1.5rem;max-width:24rem}
.signin label{display:block;margin:.5rem 0}.signin input,.signin select{width:100%}
.node.pickable{cursor:pointer}.node.picked rect{stroke:#0969da;stroke-width:4}
.tabs a{margin-right:1rem}
.grid td.cell{min-width:4.5rem;font-size:.8rem;border:2px solid #fff;text-align:center}
.grid th.run{font-weight:400;font-size:.75rem;text-align:center}
.timeline .bar.succeeded{fill:#2da44e}.timeline .bar.failed{fill:#cf222e}.timeline .bar.running{fill:#0969da}
.timeline .bar.timeout{fill:#bc4c00}.timeline .bar.stopped{fill:#8c959f}.timeline .bar.notrun{fill:#d0d7de}
.timeline .wait{fill:#eaeef2}.timeline text{font-size:11px;fill:#1f2328}.timeline .axis{stroke:#d0d7de}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        let hostile = "\"><img src=x onerror=alert(1)>";
        let attr = format!("<a title=\"{}\">", escape(hostile));
        assert!(!attr.contains("\"><img"));
        assert_eq!(
            link("/x?a=1&b=2", "<b>"),
            "<a href=\"/x?a=1&amp;b=2\">&lt;b&gt;</a>"
        );
    }

    #[test]
    fn page_escapes_title_and_crumbs() {
        let crumbs = [
            ("/console".to_string(), "<home>".to_string()),
            ("/here".to_string(), "a&b".to_string()),
        ];
        let frame = Frame {
            access_key: Some("<key>"),
            account: "123456789012",
            region: "us-east-1",
            csrf: "tok\"en",
        };
        let html = page("<t>", &crumbs, "<p>body</p>", Some(&frame));
        assert!(html.contains("<title>&lt;t&gt; — Weir</title>"));
        assert!(html.contains("&lt;home&gt;</a>"));
        assert!(html.contains("<span>a&amp;b</span>"));
        assert!(html.contains("<p>body</p>"));
        assert!(html.contains("&lt;key&gt;") && html.contains("value=\"tok&quot;en\""));
        assert!(!html.contains("role=\"alert\""));
        let open = Frame {
            access_key: None,
            ..frame
        };
        let open_page = page("t", &[], "", Some(&open));
        assert!(open_page.contains("role=\"alert\"") && !open_page.contains("/console/region"));
        assert!(!page("t", &[], "", None).contains("Sign out"));
    }

    #[test]
    fn segments_cannot_escape_the_path() {
        assert_eq!(segment("wf-1_a.b~"), "wf-1_a.b~");
        assert_eq!(segment("a/../b?c#d%"), "a%2F..%2Fb%3Fc%23d%25");
        assert_eq!(segment("é "), "%C3%A9%20");
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(time(None), "—");
        assert_eq!(time(Some(0)), "1970-01-01 00:00:00");
        assert_eq!(time(Some(951_782_400_000)), "2000-02-29 00:00:00");
        assert_eq!(time(Some(1_700_000_000_999)), "2023-11-14 22:13:20");
        assert_eq!(time(Some(-1)), "1969-12-31 23:59:59");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("ééééééé", 4), "ééé…");
    }
}
