//! The ways docs/deploy.md runs the server, with the real
//! programs: nginx and Caddy in front (from `contrib/`), `make install`,
//! the systemd unit, and the classroom start-up line. A missing program is
//! a skip outside CI and a failure in CI; and that every command the
//! README and docs/ give exists. Run one: `cargo test --test
//! deploy nginx`.

mod caddy;
mod classroom_startup;
mod docs_commands;
mod make_install;
mod nginx;
mod systemd_unit;
