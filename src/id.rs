//! [`ClientId`]: the one type the room, the client's reader and its outbox
//! all name, kept apart so none of them has to import another for it.

/// Each connection's id, given by the acceptor; never reused in a run.
pub type ClientId = u64;
