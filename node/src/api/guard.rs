//! The defence against web pages: a page on this machine can make a browser send requests to
//! the API (cross-site, or through a DNS name rebound to 127.0.0.1). Such requests carry a
//! foreign `Origin` or a `Host` that is not loopback, so both are checked before the token
//! and a mismatch is refused with 403, whatever the token.

use std::net::IpAddr;

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::ApiError;

/// Why a request is refused, if it is.
pub fn refusal(headers: &HeaderMap, port: u16) -> Option<&'static str> {
    let Some(host) = headers.get(header::HOST) else {
        return Some("the request has no Host header");
    };
    let host_ok = host
        .to_str()
        .ok()
        .is_some_and(|h| is_loopback_authority(h, port));
    if !host_ok {
        return Some("the Host header does not name this loopback address");
    }
    for origin in headers.get_all(header::ORIGIN) {
        let ok = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(|authority| is_loopback_authority(authority, port));
        if !ok {
            return Some("requests from web pages (a foreign Origin) are refused");
        }
    }
    None
}

/// Whether `authority` is `HOST` or `HOST:port` with a loopback `HOST` (`localhost`, an IPv4
/// loopback address, or `[::1]`).
fn is_loopback_authority(authority: &str, port: u16) -> bool {
    let (host, given_port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (h, Some(p)),
        _ => (authority, None),
    };
    if given_port.is_some_and(|p| p.parse::<u16>().ok() != Some(port)) {
        return false;
    }
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let ip = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    // A bare IPv6 address must be bracketed.
    if ip == host && ip.contains(':') {
        return false;
    }
    ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Middleware: refuses requests from web pages (see the module docs).
pub(crate) async fn same_origin_only(
    State(port): State<u16>,
    request: Request,
    next: Next,
) -> Response {
    match refusal(request.headers(), port) {
        None => next.run(request).await,
        Some(why) => ApiError::new(StatusCode::FORBIDDEN, why).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(host) = host {
            h.insert(header::HOST, HeaderValue::from_str(host).expect("host"));
        }
        if let Some(origin) = origin {
            h.insert(
                header::ORIGIN,
                HeaderValue::from_str(origin).expect("origin"),
            );
        }
        h
    }

    #[test]
    fn loopback_hosts_and_origins_pass() {
        for host in [
            "127.0.0.1:7878",
            "localhost:7878",
            "LOCALHOST:7878",
            "[::1]:7878",
            "127.0.0.1",
            "localhost",
            "127.1.2.3:7878",
        ] {
            assert_eq!(refusal(&headers(Some(host), None), 7878), None, "{host}");
        }
        for origin in [
            "http://127.0.0.1:7878",
            "http://localhost:7878",
            "http://[::1]:7878",
        ] {
            assert_eq!(
                refusal(&headers(Some("127.0.0.1:7878"), Some(origin)), 7878),
                None,
                "{origin}"
            );
        }
    }

    #[test]
    fn foreign_hosts_and_origins_are_refused() {
        for host in [
            "evil.example",
            "evil.example:7878",
            "127.0.0.1.evil.example:7878",
            "127.0.0.1:7879",
            "10.0.0.1:7878",
            "[::2]:7878",
            "::1",
            "",
        ] {
            assert!(
                refusal(&headers(Some(host), None), 7878).is_some(),
                "{host}"
            );
        }
        assert!(refusal(&headers(None, None), 7878).is_some());
        for origin in [
            "http://evil.example",
            "https://127.0.0.1:7878",
            "http://127.0.0.1:7879",
            "http://evil.example:7878",
            "null",
            "",
        ] {
            assert!(
                refusal(&headers(Some("127.0.0.1:7878"), Some(origin)), 7878).is_some(),
                "{origin}"
            );
        }
    }
}
