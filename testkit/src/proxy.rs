//! nginx or Caddy with TLS in front of the server, set up from
//! `contrib/nginx.conf` and `contrib/Caddyfile` (the files README's Deploy
//! section shows), for the proxy tests (`tests/deploy/`, `browser/`).
//!
//! The test makes a self-signed certificate with `openssl`, templates the
//! config's ports and certificate paths (every token it replaces must be
//! there, so the README's config cannot drift from what is tested), and runs
//! nginx in the foreground on free loopback ports. A TLS client is
//! `openssl s_client` as a pipe: the test speaks HTTP and WebSocket through
//! its stdin and stdout, and it checks nginx's certificate against ours.
//! Installs nothing: `.ci/run` installs nginx, Caddy and openssl.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

use crate::{find_program, have_program, Scratch, START, WAIT};

/// The two `proxy_pass` forms README's Deploy section says both work.
#[derive(Debug, Clone, Copy)]
pub enum Form {
    /// `proxy_pass http://127.0.0.1:12345;`: the chat port sees `/ws/ROOM`.
    KeepPrefix,
    /// `proxy_pass http://127.0.0.1:12345/;`: the chat port sees `/ROOM`.
    StripPrefix,
}

/// Whether `program` (nginx, caddy) and openssl are installed. Outside CI
/// a missing one prints a skip line and the test passes; in CI
/// ([`crate::in_ci`]) it fails (CI installs them).
pub fn have_with_openssl(program: &str) -> bool {
    [program, "openssl"]
        .iter()
        .all(|p| have_program(p, &format!("apt-get install {p}")))
}

/// [`have_with_openssl`] for nginx.
pub fn have_nginx_and_openssl() -> bool {
    have_with_openssl("nginx")
}

/// The repository's root: this package's folder, or its parent for a
/// workspace member such as this one (`testkit/`).
pub fn repository() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    match here.join("contrib").is_dir() {
        true => here.to_path_buf(),
        false => here.parent().unwrap_or(here).to_path_buf(),
    }
}

/// A self-signed certificate for 127.0.0.1 and ::1: (certificate, key).
pub fn make_certificate(dir: &Scratch) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.path("cert.pem"), dir.path("key.pem"));
    let out = Command::new(find_program("openssl").expect("openssl"))
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,IP:::1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// Ports nginx listens on. Found free by binding port 0; held until just
/// before nginx starts.
struct Ports {
    http: TcpListener,
    https: TcpListener,
    https_v6: Option<TcpListener>,
}

impl Ports {
    fn take() -> Ports {
        let v4 = || TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("free port");
        Ports {
            http: v4(),
            https: v4(),
            https_v6: TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).ok(),
        }
    }
}

fn port(listener: &TcpListener) -> u16 {
    listener.local_addr().expect("local addr").port()
}

/// The loopback ports nginx listens on.
pub struct Listen {
    pub http: u16,
    pub https: u16,
    pub https_v6: Option<u16>,
}

/// `contrib/nginx.conf` with this test's addresses, certificate (`tls`:
/// certificate and key files) and form. Panics if a token it replaces is
/// missing from the file.
pub fn site_config(
    page: SocketAddr,
    chat: SocketAddr,
    form: Form,
    tls: (&Path, &Path),
    listen: &Listen,
) -> String {
    let (cert, key) = tls;
    let Listen {
        http,
        https,
        https_v6,
    } = *listen;
    let path = repository().join("contrib/nginx.conf");
    let mut config = std::fs::read_to_string(&path).expect("contrib/nginx.conf");
    let v6_listen = match https_v6 {
        Some(port) => format!("listen [::1]:{port} ssl;"),
        None => String::new(),
    };
    let chat_pass = match form {
        Form::KeepPrefix => format!("proxy_pass http://{chat};"),
        Form::StripPrefix => format!("proxy_pass http://{chat}/;"),
    };
    let replacements = [
        ("listen 80;".to_owned(), format!("listen 127.0.0.1:{http};")),
        // One IPv6 listener is enough to test that line's form.
        ("listen [::]:80;".to_owned(), String::new()),
        (
            "listen 443 ssl;".to_owned(),
            format!("listen 127.0.0.1:{https} ssl;"),
        ),
        ("listen [::]:443 ssl;".to_owned(), v6_listen),
        (
            "/etc/letsencrypt/live/chat.example.org/fullchain.pem".to_owned(),
            cert.display().to_string(),
        ),
        (
            "/etc/letsencrypt/live/chat.example.org/privkey.pem".to_owned(),
            key.display().to_string(),
        ),
        ("proxy_pass http://127.0.0.1:12345;".to_owned(), chat_pass),
        (
            "proxy_pass http://127.0.0.1:8080;".to_owned(),
            format!("proxy_pass http://{page};"),
        ),
    ];
    for (from, to) in replacements {
        assert_eq!(
            config.matches(&from).count(),
            1,
            "contrib/nginx.conf should have `{from}` once"
        );
        config = config.replace(&from, &to);
    }
    config
}

/// nginx in the foreground (one process, no daemon), stopped on drop.
pub struct Nginx {
    child: Child,
    /// Where browsers and test clients connect: `https://127.0.0.1:PORT`.
    pub https: SocketAddr,
    /// The same over IPv6 (`[::1]`), if this machine has IPv6.
    pub https_v6: Option<SocketAddr>,
    /// Plain http, which redirects.
    pub http: SocketAddr,
    /// The certificate nginx serves, for clients to check it against.
    pub cert: PathBuf,
    pub dir: Scratch,
}

impl Nginx {
    /// Start nginx with `contrib/nginx.conf` in front of a server whose
    /// page and chat listen on `page` and `chat`. Panics if it does not
    /// serve within [`START`]. A port found free may be taken by someone else
    /// before nginx binds it; then it starts again on other ports.
    pub fn start(page: SocketAddr, chat: SocketAddr, form: Form) -> Nginx {
        for _ in 0..3 {
            if let Some(nginx) = Nginx::try_start(page, chat, form) {
                return nginx;
            }
        }
        panic!("nginx lost its ports three times");
    }

    /// `None` if nginx could not bind a port it was given.
    fn try_start(page: SocketAddr, chat: SocketAddr, form: Form) -> Option<Nginx> {
        let dir = Scratch::new("nginx");
        let (cert, key) = make_certificate(&dir);
        let ports = Ports::take();
        let listen = Listen {
            http: port(&ports.http),
            https: port(&ports.https),
            https_v6: ports.https_v6.as_ref().map(port),
        };
        let site = site_config(page, chat, form, (&cert, &key), &listen);
        std::fs::write(dir.path("site.conf"), site).expect("write site.conf");
        let d = dir.0.display();
        let main = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             include {d}/site.conf;\n}}\n"
        );
        std::fs::write(dir.path("nginx.conf"), main).expect("write nginx.conf");
        drop(ports);
        let child = Command::new(find_program("nginx").expect("nginx"))
            .arg("-e")
            .arg(dir.path("error.log"))
            .arg("-p")
            .arg(&dir.0)
            .arg("-c")
            .arg(dir.path("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx {
            child,
            https: SocketAddr::from((Ipv4Addr::LOCALHOST, listen.https)),
            https_v6: listen
                .https_v6
                .map(|p| SocketAddr::from((Ipv6Addr::LOCALHOST, p))),
            http: SocketAddr::from((Ipv4Addr::LOCALHOST, listen.http)),
            cert,
            dir,
        };
        // Serving once it answers over TLS with our certificate (another
        // program on a port we lost would fail the check).
        let deadline = Instant::now() + START;
        while !serves_tls(nginx.https, &nginx.cert) {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                let log = nginx.error_log();
                if log.contains("Address already in use") {
                    return None;
                }
                panic!("nginx exited ({status}): {log}");
            }
            assert!(
                Instant::now() < deadline,
                "nginx not serving within {START:?}: {}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(nginx)
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Caddy in the foreground with `contrib/Caddyfile`, stopped on drop. Its
/// certificate comes from its own local authority (`local_certs`), whose
/// root is [`Caddy::cert`]; ports and storage are set in a global options
/// block put in front of the file (admin API off, nothing installed in the
/// system's trust store).
pub struct Caddy {
    child: Child,
    pub https: SocketAddr,
    pub https_v6: SocketAddr,
    pub cert: PathBuf,
    pub dir: Scratch,
}

impl Caddy {
    pub fn start(page: SocketAddr, chat: SocketAddr) -> Caddy {
        let dir = Scratch::new("caddy");
        let ports = Ports::take();
        let (http, https) = (port(&ports.http), port(&ports.https));
        let path = repository().join("contrib/Caddyfile");
        let mut site = std::fs::read_to_string(&path).expect("contrib/Caddyfile");
        for (from, to) in [
            (
                "chat.example.org {".to_owned(),
                "127.0.0.1, [::1] {".to_owned(),
            ),
            (
                "reverse_proxy 127.0.0.1:12345".to_owned(),
                format!("reverse_proxy {chat}"),
            ),
            (
                "reverse_proxy 127.0.0.1:8080".to_owned(),
                format!("reverse_proxy {page}"),
            ),
        ] {
            assert_eq!(
                site.matches(&from).count(),
                1,
                "contrib/Caddyfile should have `{from}` once"
            );
            site = site.replace(&from, &to);
        }
        let d = dir.0.display();
        let global = format!(
            "{{\n\tadmin off\n\thttp_port {http}\n\thttps_port {https}\n\tlocal_certs\n\t\
             skip_install_trust\n\tstorage file_system {d}/data\n}}\n"
        );
        std::fs::write(dir.path("Caddyfile"), global + &site).expect("write Caddyfile");
        drop(ports);
        let child = Command::new(find_program("caddy").expect("caddy"))
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(dir.path("Caddyfile"))
            .env("HOME", &dir.0)
            .env("XDG_DATA_HOME", dir.path("xdg"))
            .env("XDG_CONFIG_HOME", dir.path("xdg"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path("caddy.log")).expect("log file"))
            .spawn()
            .expect("start caddy");
        let mut caddy = Caddy {
            child,
            https: SocketAddr::from((Ipv4Addr::LOCALHOST, https)),
            https_v6: SocketAddr::from((Ipv6Addr::LOCALHOST, https)),
            cert: dir.path("data/pki/authorities/local/root.crt"),
            dir,
        };
        // Ready once it answers over TLS with a certificate from its
        // authority (it makes both at start).
        let deadline = Instant::now() + START;
        while !(caddy.cert.is_file() && serves_tls(caddy.https, &caddy.cert)) {
            if let Ok(Some(status)) = caddy.child.try_wait() {
                panic!("caddy exited ({status}): {}", caddy.log());
            }
            assert!(
                Instant::now() < deadline,
                "caddy not serving within {START:?}: {}",
                caddy.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        caddy
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path("caddy.log")).unwrap_or_default()
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TLS connection through `openssl s_client`, checked against `cert`.
/// Reads wait at most [`WAIT`], then fail with `TimedOut`.
pub struct Tls {
    child: Child,
    stdin: ChildStdin,
    chunks: Receiver<Vec<u8>>,
    pending: Vec<u8>,
}

impl Tls {
    pub fn connect(addr: SocketAddr, cert: &Path) -> Tls {
        let mut child = Command::new(find_program("openssl").expect("openssl"))
            .args(["s_client", "-quiet", "-nocommands", "-verify_return_error"])
            .arg("-CAfile")
            .arg(cert)
            .arg("-verify_ip")
            .arg(addr.ip().to_string())
            .arg("-connect")
            .arg(addr.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start openssl s_client");
        let stdin = child.stdin.take().expect("stdin piped");
        let mut stdout = child.stdout.take().expect("stdout piped");
        let (tx, chunks) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Tls {
            child,
            stdin,
            chunks,
            pending: Vec::new(),
        }
    }
}

impl Read for Tls {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.chunks.recv_timeout(WAIT) {
                Ok(chunk) => self.pending = chunk,
                Err(RecvTimeoutError::Timeout) => return Err(io::ErrorKind::TimedOut.into()),
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl Write for Tls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stdin.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stdin.flush()
    }
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `addr` completes a TLS handshake checked against `cert` and
/// answers an HTTP request.
fn serves_tls(addr: SocketAddr, cert: &Path) -> bool {
    if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        return false;
    }
    let mut tls = Tls::connect(addr, cert);
    let probe = format!("HEAD / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut first = [0u8; 9];
    tls.write_all(probe.as_bytes()).is_ok()
        && tls.read_exact(&mut first).is_ok()
        && first.starts_with(b"HTTP/1.1 ")
}

/// `GET path` over https: (status, head, body).
pub fn https_get(addr: SocketAddr, cert: &Path, path: &str) -> (u16, String, String) {
    let mut tls = Tls::connect(addr, cert);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write request");
    tls.flush().expect("flush");
    let mut response = Vec::new();
    let deadline = Instant::now() + WAIT;
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(e) => panic!("reading https response: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// A WebSocket over TLS to `path` on `addr`, sending `Origin` as a browser
/// on that origin would. `Err` is the handshake's failure (e.g. a 403).
pub fn wss_connect(
    addr: SocketAddr,
    cert: &Path,
    path: &str,
    origin: &str,
) -> Result<WebSocket<Tls>, tungstenite::Error> {
    let mut request = format!("wss://{addr}{path}").into_client_request()?;
    request
        .headers_mut()
        .insert("Origin", origin.parse().expect("origin is a header value"));
    let tls = Tls::connect(addr, cert);
    tungstenite::client(request, tls)
        .map(|(ws, _)| ws)
        .map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => e,
            tungstenite::HandshakeError::Interrupted(_) => {
                tungstenite::Error::Io(io::ErrorKind::TimedOut.into())
            }
        })
}

/// Two clients through a proxy at `a_addr` and `b_addr` (its certificate
/// `cert`), each sending the `Origin` a page on that address would, join
/// `/ws/lobby` and chat both ways; their nicknames. `proxy_log` is added to
/// a failure.
pub fn two_clients_chat_through(
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    cert: &Path,
    proxy_log: &dyn Fn() -> String,
) -> (String, String) {
    let connect = |addr: SocketAddr| {
        wss_connect(addr, cert, "/ws/lobby", &format!("https://{addr}"))
            .unwrap_or_else(|e| panic!("through the proxy at {addr}: {e}\n{}", proxy_log()))
    };
    let mut a = connect(a_addr);
    let a_nick = greeting(&mut a);
    let mut b = connect(b_addr);
    let b_nick = greeting(&mut b);
    recv_until(&mut a, &format!(" .... {b_nick} has joined."));
    a.send(Message::text("hello through the proxy"))
        .expect("send");
    recv_until(&mut b, &format!("{a_nick}: hello through the proxy"));
    b.send(Message::text("and back")).expect("send");
    recv_until(&mut a, &format!("{b_nick}: and back"));
    (a_nick, b_nick)
}

/// The next text frame (pings skipped); panics after WAIT.
pub fn recv_text(ws: &mut WebSocket<Tls>) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "no text within {WAIT:?}");
        match ws.read() {
            Ok(Message::Text(t)) => return t.as_str().to_owned(),
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(other) => panic!("expected text, got {other:?}"),
            Err(e) => panic!("expected text, got error {e}"),
        }
    }
}

/// Read text frames until one equals `want`; panics after WAIT.
pub fn recv_until(ws: &mut WebSocket<Tls>, want: &str) {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let line = recv_text(ws);
        if line == want {
            return;
        }
        seen.push(line);
    }
    panic!("{want:?} not seen; got {seen:?}");
}

/// The nickname from a ` .... you are NICK.` greeting, skipping history.
pub fn greeting(ws: &mut WebSocket<Tls>) -> String {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let line = recv_text(ws);
        if let Some(nick) = line
            .strip_prefix(" .... you are ")
            .and_then(|s| s.strip_suffix('.'))
        {
            return nick.to_owned();
        }
    }
    panic!("no greeting within {WAIT:?}");
}
