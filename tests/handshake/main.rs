//! The chat port's opening handshake, end to end over loopback: raw HTTP
//! requests to a server started in-process on port 0, and the exact status
//! and header fields of every answer (some also on the page port, where the
//! rule is the same on both). Run one: `cargo test --test handshake origin`.

mod invalid_host;
mod leading_empty_lines;
mod origin;
mod origin_behind_proxy;
mod origin_serialization;
mod refusal_headers;
mod repeated_fields;
mod request_target_form;
mod timeout_and_refusals;
mod truncated_head;
mod trust_proxy;
mod upgrade_with_content;
