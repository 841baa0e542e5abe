//! HTTP parsers, no threads, nothing imported from the rest of the crate:
//! the bounded request-head reader (both ports), the WebSocket upgrade on
//! the chat port (101, every refusal), and the origin policy it applies.
//! The page port's server is `crate::page`.
//!
//! - [`head`]: read one request head within 8 KiB and a deadline.
//! - [`upgrade`]: check an upgrade, answer 101 or a refusal.
//! - [`origin`]: which `Origin`s may open a WebSocket.

pub mod head;
pub mod origin;
pub mod upgrade;
