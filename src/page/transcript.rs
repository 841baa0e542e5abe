//! `GET /NAME/transcript.txt`, `.csv` and `.jsonl` on the page port: a
//! room's whole retained record, for teachers. Run by the `page` thread,
//! which checks the request and hands a good one to two short-lived
//! threads of its own: `page-transcript` reads the store through a
//! read-only connection into a pipe, and `page-download` sends the pipe to
//! the client. So a long transcript never sits in memory (the pipe holds
//! at most its buffer), and a slow download never holds up the page
//! thread, `/healthz` included.
//!
//! Only for teachers: `Authorization: Bearer KEY` with the teacher key
//! (RFC 6750 section 2.1). Without it `401` with `WWW-Authenticate:
//! Bearer` (RFC 6750 section 3), with a wrong one `403`; a room without a
//! record, or no store (`--memory-only`), `404`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::SystemTime;

use tiny_http::{Header, Request, Response, StatusCode};

use crate::event::Time;
use crate::room::path::RoomName;
use crate::store::{self, Format};

/// Downloads at once at most; past it, `503`.
pub const MAX_DOWNLOADS: usize = 4;

/// What the transcript routes need: the database and the teacher key.
#[derive(Clone, Default)]
pub struct Transcripts {
    /// The store's file (`None` with `--memory-only`).
    pub db: Option<PathBuf>,
    /// The teacher key (`None`: no one may download).
    pub key: Option<Arc<str>>,
    running: Arc<AtomicUsize>,
}

impl Transcripts {
    pub fn new(db: Option<PathBuf>, key: Option<Arc<str>>) -> Transcripts {
        Transcripts {
            db,
            key,
            running: Arc::default(),
        }
    }
}

/// The room and format `path` asks for, if it is a transcript route:
/// `/NAME/transcript.EXT`.
pub fn route(path: &str) -> Option<(RoomName, Format)> {
    let (room, file) = path.strip_prefix('/')?.split_once('/')?;
    let ext = file.strip_prefix("transcript.")?;
    Some((RoomName::parse(room)?, Format::from_extension(ext)?))
}

/// Whether `given` is `key`, in time that does not depend on where they
/// differ (the key is a secret).
pub fn same_key(given: &[u8], key: &[u8]) -> bool {
    given.len() == key.len() && given.iter().zip(key).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

/// Answer a transcript request for `room` in `format`: an error status at
/// once, or the download on threads of its own.
pub fn answer(request: Request, room: RoomName, format: Format, t: &Transcripts) {
    let bearer = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().trim().to_owned());
    let given = bearer.as_deref().and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let refuse = |request: Request, status: u16, body: &str| {
        let mut response = Response::from_string(body)
            .with_status_code(StatusCode(status))
            .with_header(fixed("Content-Type", "text/plain; charset=utf-8"))
            .with_header(fixed("Cache-Control", "no-store"));
        if status == 401 {
            response = response.with_header(fixed("WWW-Authenticate", "Bearer"));
        }
        crate::metrics::page_request(status);
        let _ = request.respond(response);
    };
    let Some(given) = given else {
        return refuse(
            request,
            401,
            "a transcript needs the teacher key as a Bearer token\n",
        );
    };
    let key = t.key.as_deref().unwrap_or_default();
    if key.is_empty() || !same_key(given.as_bytes(), key.as_bytes()) {
        return refuse(request, 403, "wrong teacher key\n");
    }
    let Some(db) = t.db.clone() else {
        return refuse(
            request,
            404,
            "no transcripts: the server keeps nothing (--memory-only)\n",
        );
    };
    if t.running.fetch_add(1, Ordering::AcqRel) >= MAX_DOWNLOADS {
        t.running.fetch_sub(1, Ordering::AcqRel);
        return refuse(request, 503, "too many transcripts at once, try again\n");
    }
    let running = t.running.clone();
    let started = thread::Builder::new()
        .name("page-download".into())
        .spawn(move || {
            download(request, db, room, format);
            running.fetch_sub(1, Ordering::AcqRel);
        });
    if let Err(e) = started {
        t.running.fetch_sub(1, Ordering::AcqRel);
        log::warn!("page: no thread for a transcript: {e}");
    }
}

/// The `page-download` thread: start the reader, then send what it reads.
fn download(request: Request, db: PathBuf, room: RoomName, format: Format) {
    let (body, writer) = match io::pipe() {
        Ok(pipe) => pipe,
        Err(e) => return fail(request, &format!("no pipe: {e}")),
    };
    let (found_tx, found) = crossbeam_channel::bounded(1);
    let name = room.to_string();
    let reader = thread::Builder::new()
        .name("page-transcript".into())
        .spawn(move || {
            let mut out = Announce {
                inner: writer,
                found: Some(found_tx),
            };
            match store::transcript(&db, &name, format, &mut out) {
                Ok(true) => out.announce(Ok(true)),
                Ok(false) => out.announce(Ok(false)),
                Err(e) => out.announce(Err(e.to_string())),
            }
        });
    if let Err(e) = reader {
        return fail(request, &format!("no thread: {e}"));
    }
    match found.recv() {
        Ok(Ok(true)) => {
            let date = Time::from_system(SystemTime::now()).rfc3339();
            let day = date.get(..10).unwrap_or("today");
            let disposition = format!(
                "attachment; filename=\"{room}-{day}.{}\"",
                extension(format)
            );
            let response = Response::new(
                StatusCode(200),
                vec![
                    fixed("Content-Type", format.content_type()),
                    Header::from_bytes("Content-Disposition", disposition.as_bytes())
                        .unwrap_or_else(|_| fixed("Content-Disposition", "attachment")),
                    fixed("Cache-Control", "no-store"),
                ],
                body,
                None,
                None,
            );
            crate::metrics::page_request(200);
            if let Err(e) = request.respond(response) {
                log::debug!("page: transcript of {room} not sent whole: {e}");
            }
        }
        Ok(Ok(false)) => {
            crate::metrics::page_request(404);
            let _ = request.respond(
                Response::from_string(format!("no record of room {room}\n"))
                    .with_status_code(StatusCode(404))
                    .with_header(fixed("Content-Type", "text/plain; charset=utf-8")),
            );
        }
        Ok(Err(why)) => fail(request, &why),
        Err(_) => fail(request, "the transcript reader stopped"),
    }
}

fn fail(request: Request, why: &str) {
    log::warn!("page: transcript failed: {why}");
    crate::metrics::page_request(500);
    let _ = request.respond(
        Response::from_string("the transcript could not be read\n")
            .with_status_code(StatusCode(500))
            .with_header(fixed("Content-Type", "text/plain; charset=utf-8")),
    );
}

fn extension(format: Format) -> &'static str {
    match format {
        Format::Text => "txt",
        Format::Csv => "csv",
        Format::JsonLines => "jsonl",
    }
}

fn fixed(name: &'static str, value: &'static str) -> Header {
    // Both strings are constants, valid ASCII header text.
    Header::from_bytes(name, value).expect("constant header is valid")
}

/// The pipe's writing end, telling the download whether the room has a
/// record before the first byte (the status line comes first).
struct Announce {
    inner: io::PipeWriter,
    found: Option<crossbeam_channel::Sender<Result<bool, String>>>,
}

impl Announce {
    fn announce(&mut self, found: Result<bool, String>) {
        if let Some(tx) = self.found.take() {
            let _ = tx.send(found);
        }
    }
}

impl Write for Announce {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.announce(Ok(true));
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let (room, format) = route("/physics/transcript.csv").expect("a route");
        assert_eq!((room.as_str(), format), ("physics", Format::Csv));
        assert!(route("/physics/transcript.pdf").is_none());
        assert!(route("/physics").is_none());
        assert!(route("/Bad Name/transcript.txt").is_none());
    }

    #[test]
    fn keys_compare_whole() {
        assert!(same_key(b"abcdef", b"abcdef"));
        assert!(!same_key(b"abcdeg", b"abcdef"));
        assert!(!same_key(b"abc", b"abcdef"));
    }
}
