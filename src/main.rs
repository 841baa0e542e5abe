//! `chat-server`: read the flags, start the server, stop on SIGINT or SIGTERM.

use std::process::ExitCode;

use chat_server::{Command, Config, Server};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args_os()) {
        Ok(Command::Run(config)) => *config,
        Ok(Command::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(message) => return fail(&message),
    };
    chat_server::init_logging(config.log_level);
    // Registered before the listeners open, so no signal is missed.
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(e) => return fail(&format!("could not handle signals: {e}")),
    };
    let server = match Server::bind(&config) {
        Ok(server) => server,
        Err(e) => return fail(&e.to_string()),
    };
    if let Some(signal) = signals.forever().next() {
        log::info!("signal {signal}: stopping");
    }
    server.shutdown();
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("chat-server: {message}");
    ExitCode::FAILURE
}
