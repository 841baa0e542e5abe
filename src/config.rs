//! The configuration: every flag and limit, spelled once. The flags are
//! derived from [`Config`] and [`Limits`] themselves: each field's doc
//! comment is its `--help` text (unit, default, what happens on breach) and
//! its `#[arg]` holds the default, which `Default` reads back through clap,
//! so there is no second copy. Read once in `main`; tests build a
//! [`Config`] directly (`..Config::default()`).

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::time::Duration;

use clap::{Args, FromArgMatches, Parser};

use crate::http::origin::Origin;

/// The seed's page port.
pub const HTTP_PORT: u16 = 8080;
/// The seed's WebSocket port.
pub const WS_PORT: u16 = 12345;
/// Loopback by default: a classroom opts in to `--bind 0.0.0.0`.
pub const BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Everything the server needs to start: the command line.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "chat-server",
    version,
    about = "A small synchronous WebSocket chat room: the page on --http-port, the chat on --ws-port."
)]
pub struct Config {
    /// Address (or host name, resolved at start) both listeners bind to:
    /// 0.0.0.0 or :: (IPv6 and IPv4) for a classroom
    #[arg(long, value_name = "ADDR", default_value_t = BIND,
          value_parser = resolve_bind)]
    pub bind: IpAddr,
    /// Port for the page (0: any free port)
    #[arg(long, value_name = "PORT", default_value_t = HTTP_PORT)]
    pub http_port: u16,
    /// Port for the WebSocket chat (0: any free port)
    #[arg(long, value_name = "PORT", default_value_t = WS_PORT)]
    pub ws_port: u16,
    /// Log level: off, error, warn, info, debug or trace
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: log::LevelFilter,
    /// Also accept WebSocket handshakes from this Origin, scheme://host[:port],
    /// besides the page's own (repeatable; * for any); others get 403.
    /// Compared as RFC 6454 serializes origins; a value that is not an
    /// origin is refused at start. Default: none
    #[arg(long = "allow-origin", value_name = "ORIGIN", value_parser = origin)]
    pub allowed_origins: Vec<String>,
    /// The address people open behind a proxy, e.g.
    /// https://chat.example.org/: printed at start, used by the page as
    /// is, its origin accepted. Default: none (the page finds the chat)
    #[arg(long, value_name = "URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// Believe X-Forwarded-For / Forwarded from this proxy address: the
    /// client's address, for the log and the room, is the rightmost one
    /// there that is not a trusted proxy (repeatable). Default: none (the
    /// headers are ignored)
    #[arg(long = "trust-proxy", value_name = "ADDR")]
    pub trusted_proxies: Vec<IpAddr>,
    /// Share rooms with the other instances using this Redis (or Valkey):
    /// redis://HOST:PORT/ (rediss:// for TLS). Unreachable at start: exit 1.
    /// Default: none (this instance alone; no Redis thread, no connection)
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// Seconds an instance's Redis lease lasts unless renewed (every third
    /// of it); when it lapses, another instance announces its members'
    /// leaves and frees their names
    #[arg(long, value_name = "SECS", default_value = "15", value_parser = seconds)]
    pub redis_lease: Duration,
    /// Keep history, moderation and transcripts in DIR/chat.sqlite3
    /// (created with mode 0700 if missing); unusable at start: exit 1
    #[arg(long, value_name = "DIR", default_value = "chat-data")]
    pub data_dir: std::path::PathBuf,
    /// Keep everything in memory and write nothing anywhere (a restart
    /// forgets every room's history). `Config::default()` is memory-only:
    /// a program embedding the server chooses where its data goes
    #[arg(long)]
    pub memory_only: bool,
    /// Delete lines and events older than this from the store (at start,
    /// then every tenth of it, at most hourly): 30d, 12h, 90m, 10s
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = duration)]
    pub retain: Duration,
    /// Read the teacher key from this file (its first line, at least 16
    /// characters). Default: DIR/teacher.key in --data-dir, made at first
    /// start (a new key every start with --memory-only)
    #[arg(long, value_name = "PATH")]
    pub teacher_key_file: Option<std::path::PathBuf>,
    /// Who opens a room other than the main one: `open` (anyone, by
    /// joining it) or `teachers` (newcomers wait until a teacher comes)
    #[arg(long, value_name = "WHO", default_value = "open")]
    pub rooms: Rooms,
    #[command(flatten)]
    pub limits: Limits,
}

/// Who opens a room other than the main one (`--rooms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Rooms {
    /// Anyone, by joining it.
    #[default]
    Open,
    /// A teacher: newcomers wait in its lobby until one comes.
    Teachers,
}

/// Per-client limits, and the server-wide ones that bound them; every one
/// but two internal sizes is a flag.
#[derive(Args, Debug, Clone)]
pub struct Limits {
    /// Largest text message (and frame) a client may send, in bytes; a
    /// larger one is closed with 1009 (message too big)
    #[arg(long, value_name = "BYTES", default_value = "4096",
          value_parser = ranged::<1, { 64 << 20 }>)]
    pub max_message_bytes: usize,
    /// tungstenite's read buffer per connection, in bytes (not a flag;
    /// default 512): how much one read asks for. Its own default (128 KiB)
    /// is allocated, and zeroed, for every connection; a chat line is far
    /// smaller, and a longer message grows the buffer while it is read.
    /// Measured: 4 KiB cost 4 KiB more per idle client than 1 KiB. It is
    /// the buffer the request head was read into, handed on (see
    /// `http::head::HEAD_CHUNK`): 512 bytes hold a chat line and most heads.
    #[arg(skip = crate::http::head::HEAD_CHUNK)]
    pub read_buffer_bytes: usize,
    /// Lines queued for a client that is behind, at most; one more and the
    /// room drops it (close 1008, then its connection is aborted)
    #[arg(long, value_name = "LINES", default_value = "4096",
          value_parser = ranged::<1, { usize::MAX }>)]
    pub outbox_lines: usize,
    /// Seconds a socket write may stall before the client's connection is
    /// aborted (and it leaves)
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub write_timeout: Duration,
    /// Seconds of quiet before the server pings a client; keep it well
    /// under --idle-timeout
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    pub ping_interval: Duration,
    /// Seconds of silence (no frame, no pong) before a client is closed
    /// with 1001 (2.5 pings by default)
    #[arg(long, value_name = "SECS", default_value = "75", value_parser = seconds)]
    pub idle_timeout: Duration,
    /// Seconds a client has to finish its opening handshake; past it, its
    /// connection is aborted
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub handshake_timeout: Duration,
    /// After our close frame, how long the client has to answer with its
    /// own before its connection is aborted (not a flag; default 2 s)
    #[arg(skip = Duration::from_secs(2))]
    pub close_timeout: Duration,
    /// Most clients at once (clamped at start-up to what the fd, thread
    /// and memory-map limits allow); beyond it the handshake gets 503
    #[arg(long, value_name = "N", default_value = "10000")]
    pub max_clients: usize,
    /// Messages per second per client, refilled continuously (0: no
    /// limit); past it, messages are dropped and the sender told once
    /// (` .... slow down.`)
    #[arg(long = "rate", value_name = "MSGS_PER_SECOND", default_value = "10",
          value_parser = non_negative)]
    pub rate_per_second: f64,
    /// Messages a client may send at once before --rate applies
    #[arg(long, value_name = "MSGS", default_value = "20",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub burst: u32,
    /// Stack of each client thread (reader and writer), in KiB (the field
    /// holds bytes). Only touched pages cost memory: measured, a reader
    /// touches 8 KiB of it; the rest is headroom for a panic's unwinding
    #[arg(long = "thread-stack-kib", value_name = "KIB", default_value = "128",
          value_parser = kib::<64, { 64 * 1024 }>)]
    pub thread_stack_bytes: usize,
    /// Seconds a page request head (and body) has to arrive, overall, and
    /// a keep-alive page connection may sit idle, before it is closed
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub page_timeout: Duration,
    /// Chat and /me lines each room keeps for newcomers (0: none); about
    /// 4.2 KiB a line at most with the default --max-message-bytes
    #[arg(long = "history", value_name = "LINES", default_value = "100",
          value_parser = ranged::<0, 100_000>)]
    pub history_lines: usize,
    /// Most rooms at once; a join that would create one more gets 503. An
    /// empty room keeps its history until its slot is needed (the least
    /// recently used empty room goes first)
    #[arg(long, value_name = "N", default_value = "256",
          value_parser = ranged::<1, 1_000_000>)]
    pub max_rooms: usize,
    /// Seconds a member that gave ?session=ID and dropped without a close
    /// frame is kept for a resume (0: it leaves at once)
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds_or_zero)]
    pub resume_grace: Duration,
    /// Most page connections served at once, one thread each; past it a
    /// new connection gets 503 with Retry-After: 1
    #[arg(long, value_name = "N", default_value = "128",
          value_parser = ranged::<1, 65536>)]
    pub page_connections: usize,
}

impl Default for Limits {
    /// The defaults written in the `#[arg]` attributes above.
    fn default() -> Limits {
        let command = Limits::augment_args(clap::Command::new("limits"));
        let matches = command
            .try_get_matches_from(["limits"])
            .expect("the default limits parse");
        Limits::from_arg_matches(&matches).expect("the default limits parse")
    }
}

impl Default for Config {
    /// The defaults written in the `#[arg]` attributes above, but
    /// memory-only (`--memory-only`): a program embedding the server, and
    /// every test, chooses where data is kept (set `memory_only: false`
    /// and `data_dir`).
    fn default() -> Config {
        let config = Config::try_parse_from(["chat-server"]).expect("the default config parses");
        Config {
            memory_only: true,
            ..config
        }
    }
}

/// A duration such as `30d`, `12h`, `90m` or `10s` (humantime's forms).
fn duration(s: &str) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(format!(
            "`{s}` is not a duration such as 30d, 12h, 90m or 10s"
        )),
    }
}

fn ranged<const LO: usize, const HI: usize>(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if (LO..=HI).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a whole number from {LO} to {HI}")),
    }
}

/// KiB on the command line, bytes in [`Limits`].
fn kib<const LO: usize, const HI: usize>(s: &str) -> Result<usize, String> {
    ranged::<LO, HI>(s).map(|kib| kib * 1024)
}

fn seconds(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

fn seconds_or_zero(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..1e9).contains(&v) => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("`{s}` is not a number of seconds >= 0")),
    }
}

/// `*`, or an origin (checked as the origin policy will read it).
fn origin(s: &str) -> Result<String, String> {
    if s != "*" {
        Origin::parse(s)?;
    }
    Ok(s.to_owned())
}

fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number >= 0")),
    }
}

/// `--bind`: an IP address, or a host name resolved now (`localhost`). A
/// name with several addresses binds the first IPv4 one, else the first.
///
/// # Errors
/// A one-line message for clap when the name does not resolve.
pub fn resolve_bind(text: &str) -> Result<IpAddr, String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(ip);
    }
    let fix = "give an address such as 127.0.0.1, 0.0.0.0 (every IPv4 address) or ::";
    let addrs: Vec<IpAddr> = match (text, 0).to_socket_addrs() {
        Ok(addrs) => addrs.map(|a| a.ip()).collect(),
        Err(e) => {
            return Err(format!(
                "`{text}` is not an address, nor a host name we could resolve ({e}): {fix}"
            ))
        }
    };
    addrs
        .iter()
        .find(|ip| ip.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("`{text}` resolves to no address: {fix}"))
}

/// `--public-url`: an `http://` or `https://` URL with a host, kept as given
/// (it is printed and put in the page as is). Characters that could end an
/// HTML attribute or a log line are refused.
///
/// # Errors
/// A one-line message for clap saying what a valid value looks like.
pub fn parse_public_url(text: &str) -> Result<String, String> {
    let usage = "give the address people open, e.g. https://chat.example.org/";
    if text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
    {
        return Err(format!(
            "`{text}` has characters a URL cannot have: {usage}"
        ));
    }
    if public_origin(text).is_none() {
        return Err(format!(
            "`{text}` is not an http:// or https:// URL: {usage}"
        ));
    }
    Ok(text.to_owned())
}

/// The origin (RFC 6454) of an `http(s)://` URL, as a browser sends it in
/// `Origin`: lowercase scheme and host, the port only if not the scheme's
/// default, no path. `None` if it is not such a URL.
pub fn public_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let origin = Origin::parse(&format!("{scheme}://{authority}"))
        .ok()?
        .to_string();
    (origin.starts_with("http://") || origin.starts_with("https://")).then_some(origin)
}

/// What the command line asked for.
pub enum Command {
    /// Run the server with this configuration (boxed: it is far larger
    /// than the other variant).
    Run(Box<Config>),
    /// Print this (help or version) and exit 0.
    Print(String),
}

impl Config {
    /// Parse the command line.
    ///
    /// # Errors
    /// A one-line message for stderr when an argument is unknown, missing
    /// its value or out of range (help and version are
    /// [`Command::Print`], not errors).
    pub fn from_args<I, T>(args: I) -> Result<Command, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        match Config::try_parse_from(args) {
            // Two listeners cannot share a port: say so before binding.
            Ok(c) if c.http_port == c.ws_port && c.http_port != 0 => Err(format!(
                "--http-port and --ws-port are both {}: the page and the chat need a port each",
                c.http_port
            )),
            // Without the redis feature the flag is still known (so it is
            // not "unexpected"), but cannot be honoured.
            #[cfg(not(feature = "redis"))]
            Ok(c) if c.redis.is_some() => {
                Err("--redis: this chat-server was built without the redis feature".into())
            }
            Ok(config) => Ok(Command::Run(Box::new(config))),
            Err(e) => {
                use clap::error::ErrorKind;
                match e.kind() {
                    ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                        Ok(Command::Print(e.to_string()))
                    }
                    _ => Err(one_line(&e.to_string(), unknown_port_flag(&e))),
                }
            }
        }
    }
}

/// What to say for an unknown flag that means a port (`--port`, `--prot`,
/// `--ports`): there are two, and which is which.
const PORT_FLAGS: &str =
    "the page's port is --http-port (default 8080), the chat's is --ws-port (default 12345)";

/// Whether `e` is an unknown flag that contains `port` or is one typo away
/// from it (`--prot`, `--pot`, `--chat-prt`): then [`PORT_FLAGS`] helps.
fn unknown_port_flag(e: &clap::Error) -> bool {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return false;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return false;
    };
    let name = arg.trim_start_matches('-');
    let name = name.split('=').next().unwrap_or(name).to_ascii_lowercase();
    name.contains("port") || name.split(['-', '_']).any(|word| typos(word, "port") <= 1)
}

/// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`:
/// the optimal string alignment distance, on bytes (flags are ASCII).
fn typos(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// clap's errors span several lines (usage, a tip); keep the first, which
/// says what was wrong, and the tip (for a mistyped flag, the flag meant),
/// and for a flag meaning a port (`port_flag`) which port flag is which,
/// and point at --help.
fn one_line(message: &str, port_flag: bool) -> String {
    let first = message.lines().next().unwrap_or("bad arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let mut tips: String = message
        .lines()
        .filter_map(|line| line.trim().strip_prefix("tip: "))
        .map(|tip| format!("; {tip}"))
        .collect();
    if port_flag {
        tips.push_str(&format!("; {PORT_FLAGS}"));
    }
    format!("{first}{tips} (see --help)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let argv = std::iter::once("chat-server").chain(args.iter().copied());
        match Config::from_args(argv)? {
            Command::Run(config) => Ok(*config),
            Command::Print(text) => Err(format!("printed: {text}")),
        }
    }

    #[test]
    fn defaults_are_the_seeds() {
        let c = parse(&[]).unwrap();
        assert_eq!((c.http_port, c.ws_port), (8080, 12345));
        assert_eq!(c.bind, BIND);
        assert_eq!(c.limits.max_message_bytes, 4096);
        assert_eq!(c.limits.ping_interval, Duration::from_secs(30));
    }

    #[test]
    fn every_limit_has_its_documented_default() {
        let l = Limits::default();
        assert_eq!(l.max_message_bytes, 4096);
        assert_eq!(l.read_buffer_bytes, 512);
        assert_eq!(l.outbox_lines, 4096);
        assert_eq!(l.write_timeout, Duration::from_secs(10));
        assert_eq!(l.ping_interval, Duration::from_secs(30));
        assert_eq!(l.idle_timeout, Duration::from_secs(75));
        assert_eq!(l.handshake_timeout, Duration::from_secs(10));
        assert_eq!(l.close_timeout, Duration::from_secs(2));
        assert_eq!(l.max_clients, 10_000);
        assert_eq!(l.rate_per_second, 10.0);
        assert_eq!(l.burst, 20);
        assert_eq!(l.thread_stack_bytes, 128 * 1024);
        assert_eq!(l.page_connections, 128);
        assert_eq!(l.page_timeout, Duration::from_secs(10));
        let c = parse(&["--thread-stack-kib", "256", "--rate", "2.5"]).unwrap();
        assert_eq!(c.limits.thread_stack_bytes, 256 * 1024);
        assert_eq!(c.limits.rate_per_second, 2.5);
    }

    #[test]
    fn flags_override() {
        let c = parse(&[
            "--bind",
            "0.0.0.0",
            "--ws-port",
            "0",
            "--rate",
            "0",
            "--ping-interval",
            "0.25",
            "--allow-origin",
            "https://a.example",
            "--allow-origin",
            "*",
        ])
        .unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0");
        assert_eq!(c.ws_port, 0);
        assert_eq!(c.limits.rate_per_second, 0.0);
        assert_eq!(c.limits.ping_interval, Duration::from_millis(250));
        assert_eq!(c.allowed_origins, ["https://a.example", "*"]);
    }

    #[test]
    fn bad_flags_are_one_line() {
        let err = parse(&["--no-such-flag"]).unwrap_err();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("--no-such-flag"), "{err}");
        assert!(parse(&["--http-port", "99999"]).is_err());
        assert!(parse(&["--ping-interval", "-1"]).is_err());
    }

    #[test]
    fn a_mistyped_flag_gets_the_right_one() {
        let err = parse(&["--ws-prot", "9000"]).unwrap_err();
        assert!(err.contains("'--ws-port'"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn a_flag_meaning_a_port_gets_both_port_flags() {
        for flag in [
            "--port",
            "--prot",
            "--PORT=8080",
            "--ports",
            "--pot",
            "--chat-prot",
        ] {
            let err = parse(&[flag, "8080"]).unwrap_err();
            assert!(
                err.contains("--http-port") && err.contains("--ws-port"),
                "{flag}: {err}"
            );
            assert!(
                err.contains("(the page)") || err.contains("page's port"),
                "{flag}: {err}"
            );
            assert!(!err.contains('\n'), "{err}");
        }
        // Nothing about ports for a flag that has nothing to do with them.
        let err = parse(&["--colour"]).unwrap_err();
        assert!(!err.contains("--ws-port"), "{err}");
        assert_eq!(typos("prot", "port"), 1);
        assert_eq!(typos("post", "port"), 1);
        assert_eq!(typos("bind", "port"), 4);
    }

    #[test]
    fn one_port_for_both_is_refused() {
        let err = parse(&["--http-port", "9000", "--ws-port", "9000"]).unwrap_err();
        assert!(
            err.contains("--http-port and --ws-port are both 9000"),
            "{err}"
        );
        // Port 0 (any free port) twice gives two different ports.
        assert!(parse(&["--http-port", "0", "--ws-port", "0"]).is_ok());
    }

    #[test]
    fn proxy_flags() {
        let c = parse(&[
            "--public-url",
            "https://chat.example.org/",
            "--trust-proxy",
            "127.0.0.1",
            "--trust-proxy",
            "::1",
        ])
        .unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://chat.example.org/"));
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(parse(&["--public-url", "chat.example.org"]).is_err());
        assert!(parse(&["--trust-proxy", "proxy"]).is_err());
        assert_eq!(Config::default().public_url, None);
    }

    #[test]
    fn help_lists_the_flags() {
        let help = parse(&["--help"]).unwrap_err();
        for flag in [
            "--bind",
            "--http-port",
            "--ws-port",
            "--log-level",
            "--rate",
        ] {
            assert!(help.contains(flag), "{flag} missing from --help");
        }
    }

    #[cfg(not(feature = "redis"))]
    #[test]
    fn redis_needs_the_feature() {
        let err = parse(&["--redis", "redis://127.0.0.1:6379/"]).unwrap_err();
        assert_eq!(
            err,
            "--redis: this chat-server was built without the redis feature"
        );
    }

    #[test]
    fn host_names_resolve() {
        assert_eq!(resolve_bind("0.0.0.0"), Ok(IpAddr::from([0, 0, 0, 0])));
        assert_eq!(resolve_bind("::").map(|ip| ip.is_unspecified()), Ok(true));
        assert_eq!(
            resolve_bind("localhost").map(|ip| ip.is_loopback()),
            Ok(true)
        );
        let err = resolve_bind("no-such-host.invalid").unwrap_err();
        assert!(err.contains("give an address such as"), "{err}");
    }

    #[test]
    fn public_urls_and_their_origins() {
        let cases = [
            (
                "https://chat.example.org/",
                Some("https://chat.example.org"),
            ),
            (
                "https://Chat.Example.org:443/x/",
                Some("https://chat.example.org"),
            ),
            (
                "http://chat.example.org:8443",
                Some("http://chat.example.org:8443"),
            ),
            (
                "https://[2001:db8::1]:8443/",
                Some("https://[2001:db8::1]:8443"),
            ),
            ("https://[2001:db8::1]/", Some("https://[2001:db8::1]")),
            ("ftp://chat.example.org/", None),
            ("chat.example.org", None),
            ("https:///", None),
            ("https://user@chat.example.org/", None),
            ("https://chat.example.org:99999/", None),
        ];
        for (url, origin) in cases {
            assert_eq!(public_origin(url).as_deref(), origin, "{url}");
        }
        assert!(parse_public_url("https://chat.example.org/\"><script>").is_err());
        assert!(parse_public_url("https://chat.example.org/room").is_ok());
    }
}
