//! The chat as its clients see it, end to end over loopback: a server
//! started in-process on port 0 (testkit's `TestServer`) and WebSocket
//! clients on real sockets. One module per behaviour of the rooms: what is
//! broadcast, the commands, history, presence, resume, rooms and names.
//! Run one: `cargo test --test chat commands`.

mod broadcast;
mod commands;
mod control_characters;
mod history;
mod json_format;
mod max_rooms;
mod nick_case_folding;
mod nick_race;
mod presence;
mod resume;
mod rooms_isolated;
mod seed_scenario;
mod terminal_client;
mod vanished_client;
