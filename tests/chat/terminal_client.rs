//! A terminal-style client: what a person typing into `wscat` or
//! `websocat` does, over plain masked text frames with no session ID, using
//! every feature by typing: rooms by path, history, presence, `/help`,
//! `/nick`, `/who`, `/me`, `/msg`, `//`, an unknown command, and quitting
//! with a close frame.

use testkit::*;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};

/// One terminal: a socket, lines typed and lines printed.
struct Terminal {
    stream: TcpStream,
}

impl Terminal {
    /// `wscat -c ws://ADDR/TARGET`: returns the terminal and the lines it
    /// printed on connecting (up to and including the presence line).
    fn open(addr: SocketAddr, target: &str) -> (Terminal, Vec<String>) {
        let request = upgrade_request_to(addr, target, "");
        let (status, head, stream) = http_exchange(addr, request.as_bytes());
        assert_eq!(status, 101, "{head}");
        let mut t = Terminal { stream };
        let mut printed = Vec::new();
        loop {
            let line = t.line();
            let done = printed
                .last()
                .is_some_and(|l: &String| l.starts_with(" .... you are "));
            printed.push(line);
            if done {
                return (t, printed);
            }
        }
    }

    fn type_line(&mut self, text: &str) {
        self.stream
            .write_all(&frame(true, 1, text.as_bytes(), true))
            .expect("type");
    }

    fn line(&mut self) -> String {
        let (opcode, payload) = read_frame(&mut self.stream).expect("a line");
        assert_eq!(opcode, 1, "text");
        String::from_utf8(payload).expect("UTF-8")
    }

    /// Ctrl-C in wscat: a close frame; the server answers with one.
    fn quit(mut self) {
        self.stream
            .write_all(&frame(true, 8, &close_payload(1000, b""), true))
            .expect("close");
        assert_eq!(read_close_code(&mut self.stream), 1000);
        assert_eof(&mut self.stream);
    }
}

#[test]
fn every_feature_by_typing() {
    let server = start_server();
    let addr = server.chat_addr();
    let (mut t1, printed) = Terminal::open(addr, "/class");
    assert_eq!(printed.len(), 2, "{printed:?}");
    let me = you_are(&printed[0]).expect("greeting").to_owned();
    assert_eq!(printed[1], here_now(&[&me]));

    t1.type_line("/help");
    let help: Vec<String> = (0..7).map(|_| t1.line()).collect();
    assert!(help[0].starts_with(" .... "), "{help:?}");
    t1.type_line("/nick teacher");
    assert_eq!(t1.line(), format!(" .... {me} is now teacher."));
    t1.type_line("good morning");
    assert_eq!(t1.line(), "teacher: good morning");

    // A second terminal joins the same room: history, greeting, presence.
    let (mut t2, printed) = Terminal::open(addr, "/CLASS");
    assert_eq!(printed[0], "teacher: good morning");
    let student = you_are(&printed[1]).expect("greeting").to_owned();
    assert_eq!(printed[2], here_now(&["teacher", &student]));
    assert_eq!(t1.line(), joined(&student));

    t2.type_line("/nick Ana");
    let renamed = format!(" .... {student} is now Ana.");
    assert_eq!(t2.line(), renamed);
    assert_eq!(t1.line(), renamed);
    t2.type_line("/who");
    assert_eq!(t2.line(), here_now(&["teacher", "Ana"]));
    t2.type_line("/me raises a hand");
    assert_eq!(t2.line(), "* Ana raises a hand");
    assert_eq!(t1.line(), "* Ana raises a hand");
    t2.type_line("/msg TEACHER may I go out?");
    assert_eq!(t2.line(), "Ana -> teacher: may I go out?");
    assert_eq!(t1.line(), "Ana -> teacher: may I go out?");
    t2.type_line("//shrug");
    assert_eq!(t2.line(), "Ana: /shrug");
    assert_eq!(t1.line(), "Ana: /shrug");
    t2.type_line("/shrug");
    assert_eq!(t2.line(), " .... unknown command /shrug (try /help).");
    t2.quit();
    // The unknown command reached no one: the teacher's next line is the leave.
    assert_eq!(t1.line(), left("Ana"));
    t1.quit();
}
