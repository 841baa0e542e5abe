//! HTTP on both ports: the bounded request-head reader, the WebSocket
//! upgrade on the chat port (101, every refusal, and the origin policy it
//! applies), and the page server on the page port.
//!
//! - [`head`]: read one request head within 8 KiB and a deadline.
//! - [`upgrade`]: check an upgrade, answer 101 or a refusal.
//! - [`origin`]: which `Origin`s may open a WebSocket.
//! - [`page`]: tiny_http (a bounded copy, `vendor/tiny_http`) serving the page.
//! - [`qr`]: a QR code of a room's address, for the projector view.
//! - [`transcript`]: a room's transcript, streamed from the store, for teachers.

pub mod head;
pub mod origin;
pub mod page;
pub mod qr;
pub mod transcript;
pub mod upgrade;
