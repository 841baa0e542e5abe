//! The configuration: defaults as named constants, and the command line that
//! overrides them. Read once in `main`; tests build a [`Config`] directly.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use clap::Parser;

/// The seed's page port.
pub const HTTP_PORT: u16 = 8080;
/// The seed's WebSocket port.
pub const WS_PORT: u16 = 12345;
/// Loopback by default: a classroom opts in to `--bind 0.0.0.0`.
pub const BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Largest text message (and frame) a client may send; over it: close 1009.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024;
/// tungstenite's read buffer per connection: how much one read asks for.
/// Its default (128 KiB) is allocated, and zeroed, for every connection; a
/// chat line is far smaller, and a longer message grows the buffer while
/// it is read. Measured: 4 KiB cost 4 KiB more per idle client than 1 KiB.
pub const READ_BUFFER_BYTES: usize = 1024;
/// Lines waiting for a client that is behind before the room drops it.
pub const OUTBOX_LINES: usize = 4096;
/// A socket write that makes no progress for this long drops the client.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The reader pings a client quiet this long. Must be well under
/// `IDLE_TIMEOUT`.
pub const PING_INTERVAL: Duration = Duration::from_secs(30);
/// A client silent (no frame, no pong) this long is dropped: 2.5 pings.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// The opening handshake must be complete within this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After we send a close frame, how long we wait for the client's.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Most clients at once; beyond it the handshake gets 503.
pub const MAX_CLIENTS: usize = 10_000;
/// Messages per second per client, refilled continuously (0: no limit).
pub const RATE_PER_SECOND: f64 = 10.0;
/// Messages a client may send at once before the rate applies.
pub const BURST: u32 = 20;
/// Most writer threads at once, in all. A client has a writer only while it
/// is behind (see `outbox.rs`); the start-up clamp on `--max-clients`
/// reserves threads and memory maps for this many.
pub const MAX_WRITERS: usize = 1024;
/// Stack of each client thread (reader and writer). Only touched pages cost
/// memory: measured, a reader touches 8 KiB of it (the thread's TLS
/// included); the rest is headroom for a panic's unwinding.
pub const THREAD_STACK_BYTES: usize = 128 * 1024;
/// A page connection idle or stalled this long is closed.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address both listeners bind to.
    pub bind: IpAddr,
    /// Page port (0: any free port).
    pub http_port: u16,
    /// WebSocket port (0: any free port).
    pub ws_port: u16,
    pub log_level: log::LevelFilter,
    /// Origins allowed to open a WebSocket besides the page's own (`*`: any).
    pub allowed_origins: Vec<String>,
    /// The address people open, as given to `--public-url` (None: the page
    /// guesses; see README, Deploy). Its origin may open a WebSocket.
    pub public_url: Option<String>,
    /// Peers whose `Forwarded` / `X-Forwarded-For` headers are believed
    /// (`--trust-proxy`; default none: the headers are ignored).
    pub trusted_proxies: Vec<IpAddr>,
    pub limits: Limits,
}

/// Per-client limits; each is a flag.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub read_buffer_bytes: usize,
    pub outbox_lines: usize,
    pub write_timeout: Duration,
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
    pub handshake_timeout: Duration,
    pub close_timeout: Duration,
    pub max_clients: usize,
    pub rate_per_second: f64,
    pub burst: u32,
    pub thread_stack_bytes: usize,
    pub page_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message_bytes: MAX_MESSAGE_BYTES,
            read_buffer_bytes: READ_BUFFER_BYTES,
            outbox_lines: OUTBOX_LINES,
            write_timeout: WRITE_TIMEOUT,
            ping_interval: PING_INTERVAL,
            idle_timeout: IDLE_TIMEOUT,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            close_timeout: CLOSE_TIMEOUT,
            max_clients: MAX_CLIENTS,
            rate_per_second: RATE_PER_SECOND,
            burst: BURST,
            thread_stack_bytes: THREAD_STACK_BYTES,
            page_timeout: PAGE_TIMEOUT,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: BIND,
            http_port: HTTP_PORT,
            ws_port: WS_PORT,
            log_level: log::LevelFilter::Info,
            allowed_origins: Vec::new(),
            public_url: None,
            trusted_proxies: Vec::new(),
            limits: Limits::default(),
        }
    }
}

/// The command line. Every limit is a flag; `--help` lists them with defaults.
#[derive(Parser, Debug)]
#[command(
    name = "chat-server",
    version,
    about = "A small synchronous WebSocket chat room: the page on --http-port, the chat on --ws-port."
)]
struct Args {
    /// Address (or host name) to listen on: 0.0.0.0 or :: for a classroom
    #[arg(long, value_name = "ADDR", default_value_t = BIND, value_parser = crate::startup::resolve_bind)]
    bind: IpAddr,
    /// Port for the page (0: any free port)
    #[arg(long, value_name = "PORT", default_value_t = HTTP_PORT)]
    http_port: u16,
    /// Port for the WebSocket chat (0: any free port)
    #[arg(long, value_name = "PORT", default_value_t = WS_PORT)]
    ws_port: u16,
    /// off, error, warn, info, debug or trace
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    log_level: log::LevelFilter,
    /// Also accept WebSocket handshakes from this Origin (repeatable; * for any)
    #[arg(long, value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// The address people open, e.g. https://chat.example.org/ (behind a proxy)
    #[arg(long, value_name = "URL", value_parser = crate::startup::parse_public_url)]
    public_url: Option<String>,
    /// Believe Forwarded / X-Forwarded-For from this proxy address (repeatable)
    #[arg(long, value_name = "ADDR")]
    trust_proxy: Vec<IpAddr>,
    /// Most clients at once; beyond it the handshake gets 503
    #[arg(long, value_name = "N", default_value_t = MAX_CLIENTS)]
    max_clients: usize,
    /// Largest message in bytes; larger ones are closed with 1009
    #[arg(long, value_name = "BYTES", default_value_t = MAX_MESSAGE_BYTES,
          value_parser = ranged::<1, { 64 << 20 }>)]
    max_message_bytes: usize,
    /// Lines queued for a slow client before it is dropped
    #[arg(long, value_name = "LINES", default_value_t = OUTBOX_LINES,
          value_parser = ranged::<1, { usize::MAX }>)]
    outbox_lines: usize,
    /// Messages per second per client (0: no limit)
    #[arg(long, value_name = "MSGS_PER_SECOND", default_value_t = RATE_PER_SECOND,
          value_parser = non_negative)]
    rate: f64,
    /// Messages a client may send at once before --rate applies
    #[arg(long, value_name = "MSGS", default_value_t = BURST,
          value_parser = clap::value_parser!(u32).range(1..))]
    burst: u32,
    /// Seconds a socket write may stall before the client is dropped
    #[arg(long, value_name = "SECS", default_value_t = WRITE_TIMEOUT.as_secs_f64(), value_parser = seconds)]
    write_timeout: f64,
    /// Seconds between pings to each client
    #[arg(long, value_name = "SECS", default_value_t = PING_INTERVAL.as_secs_f64(), value_parser = seconds)]
    ping_interval: f64,
    /// Seconds of silence (no frame, no pong) before a client is dropped
    #[arg(long, value_name = "SECS", default_value_t = IDLE_TIMEOUT.as_secs_f64(), value_parser = seconds)]
    idle_timeout: f64,
    /// Seconds a client has to finish its handshake
    #[arg(long, value_name = "SECS", default_value_t = HANDSHAKE_TIMEOUT.as_secs_f64(), value_parser = seconds)]
    handshake_timeout: f64,
    /// Seconds a page connection may sit idle or stalled
    #[arg(long, value_name = "SECS", default_value_t = PAGE_TIMEOUT.as_secs_f64(), value_parser = seconds)]
    page_timeout: f64,
    /// Stack size of each client thread, in KiB
    #[arg(long, value_name = "KIB", default_value_t = THREAD_STACK_BYTES / 1024,
          value_parser = ranged::<64, { 64 * 1024 }>)]
    thread_stack_kib: usize,
}

fn ranged<const LO: usize, const HI: usize>(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if (LO..=HI).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a whole number from {LO} to {HI}")),
    }
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(v),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number >= 0")),
    }
}

/// What the command line asked for.
pub enum Command {
    /// Run the server with this configuration.
    Run(Box<Config>),
    /// Print this (help or version) and exit 0.
    Print(String),
}

impl Config {
    /// Parse the command line. `Err` is a one-line message for stderr.
    pub fn from_args<I, T>(args: I) -> Result<Command, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args = match Args::try_parse_from(args) {
            Ok(args) => args,
            Err(e) => {
                use clap::error::ErrorKind;
                return match e.kind() {
                    ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                        Ok(Command::Print(e.to_string()))
                    }
                    _ => Err(one_line(&e.to_string())),
                };
            }
        };
        if args.http_port == args.ws_port && args.http_port != 0 {
            return Err(format!(
                "--http-port and --ws-port are both {}: the page and the chat need a port each",
                args.http_port
            ));
        }
        Ok(Command::Run(Box::new(Config {
            bind: args.bind,
            http_port: args.http_port,
            ws_port: args.ws_port,
            log_level: args.log_level,
            allowed_origins: args.allow_origin,
            public_url: args.public_url,
            trusted_proxies: args.trust_proxy,
            limits: Limits {
                max_message_bytes: args.max_message_bytes,
                outbox_lines: args.outbox_lines,
                write_timeout: Duration::from_secs_f64(args.write_timeout),
                ping_interval: Duration::from_secs_f64(args.ping_interval),
                idle_timeout: Duration::from_secs_f64(args.idle_timeout),
                handshake_timeout: Duration::from_secs_f64(args.handshake_timeout),
                max_clients: args.max_clients,
                rate_per_second: args.rate,
                burst: args.burst,
                thread_stack_bytes: args.thread_stack_kib * 1024,
                page_timeout: Duration::from_secs_f64(args.page_timeout),
                ..Limits::default()
            },
        })))
    }
}

/// clap's errors span several lines (usage, a tip); keep the first, which
/// says what was wrong, and the tip (for a mistyped flag, the flag meant),
/// and point at --help.
fn one_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or("bad arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let tips: String = message
        .lines()
        .filter_map(|line| line.trim().strip_prefix("tip: "))
        .map(|tip| format!("; {tip}"))
        .collect();
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
}
