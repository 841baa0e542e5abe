//! `GET /NAME/qr.svg` on the page port (the main room: `/chat/qr.svg`): a
//! QR code of the room's page address, for the projector view to show so
//! a class can join from their phones. Run by the `page` thread; the SVG
//! is made in memory (a few KiB) with the `qrcode` crate's SVG renderer.
//!
//! The address is the public one: `--public-url` (its path, then the room)
//! when set, else `http://HOST/NAME` from the request's `Host`. A teacher
//! (`Authorization: Bearer KEY`, the teacher key) may add `?code=CODE`: the
//! join code the room told the teacher, put in the address as `?code=`.
//! The page server does not ask the broadcaster for the room's code (that
//! would hold the page thread on the room thread); the teacher's page
//! already knows it. Without the key a `code` is ignored: only a teacher
//! makes codes with a join code in them.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use tiny_http::{Header, Request, Response, StatusCode};

use super::transcript::same_key;
use crate::room::path::{RoomName, MAIN_ROOM};

/// What the QR route needs: where people open the page, and the teacher key.
#[derive(Clone, Default)]
pub struct Qr {
    /// `--public-url` (`None`: the request's `Host`).
    pub public_url: Option<String>,
    /// The teacher key (`None`: a `code` is never encoded).
    pub key: Option<std::sync::Arc<str>>,
}

/// The room `path` asks a QR code for, if it is `/NAME/qr.svg`.
pub fn route(path: &str) -> Option<RoomName> {
    let (room, file) = path.strip_prefix('/')?.split_once('/')?;
    (file == "qr.svg").then(|| RoomName::parse(room))?
}

/// A join code as the room gives them: 4 to 16 ASCII letters and digits.
fn is_code(code: &str) -> bool {
    (4..=16).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The page address of `room` as people open it.
pub fn address(
    public_url: Option<&str>,
    host: &str,
    room: &RoomName,
    code: Option<&str>,
) -> String {
    let name = if room.as_str() == MAIN_ROOM {
        ""
    } else {
        room.as_str()
    };
    let mut url = match public_url {
        Some(public) => {
            // Rooms hang from the public URL's path (its last segment is
            // not a folder), as the page itself reckons.
            let public = public.split(['?', '#']).next().unwrap_or(public);
            let base = match public.rfind('/') {
                Some(i) if i >= public.find("://").map_or(0, |s| s + 3) => &public[..=i],
                _ => public,
            };
            let base = if base.ends_with('/') {
                base.to_owned()
            } else {
                format!("{base}/")
            };
            format!("{base}{name}")
        }
        None => format!("http://{host}/{name}"),
    };
    if let Some(code) = code {
        url.push_str("?code=");
        url.push_str(code);
    }
    url
}

/// The QR code of `text` as an SVG document (black on white, quiet zone
/// included, at least 4 pixels a module).
pub fn svg_of(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

/// Answer a QR request for `room`.
pub fn answer(request: Request, room: RoomName, qr: &Qr) {
    let header = |name: &'static str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().trim().to_owned())
    };
    let host = header("Host").unwrap_or_else(|| "localhost".to_owned());
    let teacher = header("Authorization").is_some_and(|v| {
        let key = qr.key.as_deref().unwrap_or_default();
        v.split_once(' ').is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer")
                && !key.is_empty()
                && same_key(token.trim().as_bytes(), key.as_bytes())
        })
    });
    let code = request
        .url()
        .split_once('?')
        .and_then(|(_, query)| query.split('&').find_map(|kv| kv.strip_prefix("code=")))
        .filter(|code| teacher && is_code(code))
        .map(str::to_owned);
    let url = address(qr.public_url.as_deref(), &host, &room, code.as_deref());
    let response = match svg_of(&url) {
        Some(svg) => Response::from_data(svg.into_bytes())
            .with_header(fixed("Content-Type", "image/svg+xml"))
            .with_header(fixed(
                "Cache-Control",
                if code.is_some() {
                    "no-store"
                } else {
                    "no-cache"
                },
            )),
        None => Response::from_data(b"address too long for a QR code\n".to_vec())
            .with_status_code(StatusCode(500))
            .with_header(fixed("Content-Type", "text/plain; charset=utf-8")),
    };
    crate::metrics::page_request(response.status_code().0);
    if let Err(e) = request.respond(response) {
        log::debug!("page: could not send a QR code: {e}");
    }
}

fn fixed(name: &'static str, value: &'static str) -> Header {
    // Both strings are constants, valid ASCII header text.
    Header::from_bytes(name, value).expect("constant header is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/physics/qr.svg").unwrap().as_str(), "physics");
        assert_eq!(route("/chat/qr.svg").unwrap().as_str(), "chat");
        assert!(route("/physics/qr.png").is_none());
        assert!(route("/qr.svg").is_none());
    }

    #[test]
    fn addresses() {
        let physics = RoomName::parse("physics").unwrap();
        let main = RoomName::parse("chat").unwrap();
        assert_eq!(
            address(None, "10.0.0.5:8080", &physics, None),
            "http://10.0.0.5:8080/physics"
        );
        assert_eq!(address(None, "h", &main, None), "http://h/");
        assert_eq!(
            address(
                Some("https://chat.example.org/"),
                "h",
                &physics,
                Some("K7Q2XH")
            ),
            "https://chat.example.org/physics?code=K7Q2XH"
        );
        assert_eq!(
            address(Some("https://example.org/school/chat"), "h", &physics, None),
            "https://example.org/school/physics"
        );
        assert_eq!(
            address(Some("https://example.org"), "h", &physics, None),
            "https://example.org/physics"
        );
        assert!(is_code("K7Q2XH") && !is_code("a b") && !is_code("x"));
    }

    #[test]
    fn svg_is_a_qr_code() {
        let svg = svg_of("http://h/physics").unwrap();
        assert!(svg.contains("<svg") && svg.contains("#000000"));
    }
}
