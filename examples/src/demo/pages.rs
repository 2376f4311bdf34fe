//! The demo's HTML pages and plain answers: escaped, never cached, never framed.

use super::*;

pub(super) const STYLE: &str = "<style>body{font-family:sans-serif;margin:2em}main{max-width:28em}\
label{display:block;margin:.5em 0}.error{color:#b00}.hint{color:#666;font-size:.9em}</style>";

/// An HTML page with the anti-framing and no-referrer headers (AZ-12), never cached.
pub(super) fn html(status: u16, body: String) -> Response {
    Response {
        status,
        headers: vec![
            ("Content-Type", "text/html; charset=utf-8".to_owned()),
            ("X-Frame-Options", "DENY".to_owned()),
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                 frame-ancestors 'none'"
                    .to_owned(),
            ),
            ("Referrer-Policy", "no-referrer".to_owned()),
            ("Cache-Control", "no-store".to_owned()),
        ],
        body,
    }
}

/// An error page. It never redirects: the request could not be trusted.
pub(super) fn error_page(status: u16, message: &str) -> Response {
    html(
        status,
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Error - finrift demo</title>{STYLE}</head><body><main>\
             <h1>This request cannot be completed</h1><p class=\"error\">{}</p>\
             </main></body></html>\n",
            escape(message)
        ),
    )
}

/// The answer to a fault of the server: logged here (a fault holds no secret), and
/// answered with `server_error` or `temporarily_unavailable`, saying nothing of the cause.
pub fn fault_response(fault: &Fault) -> Response {
    tracing::error!(error = %fault, source = ?Error::source(fault), "engine fault");
    Response::from_fault(fault)
}

/// The 404 for any route the demo does not have: `{"error":"not_found"}`.
pub fn not_found() -> Response {
    Response {
        status: 404,
        headers: vec![("Content-Type", "application/json".to_owned())],
        body: serde_json::json!({"error": "not_found"}).to_string(),
    }
}

pub(super) fn escape(text: &str) -> String {
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
