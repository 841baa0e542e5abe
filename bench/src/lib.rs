//! `make bench`'s load generator as a library: the binaries `load` (every
//! scenario, the report, the chart) and `send_cost` (the kernel's price of
//! one send) are thin mains over these modules. Everything runs on the
//! coordinator thread except the fleet's worker threads (`fleet`) and the
//! thread that drains a server's log (`server`).

pub mod baseline;
pub mod chart;
pub mod compare;
pub mod docs;
pub mod fleet;
pub mod hist;
pub mod memory;
pub mod moments;
pub mod report;
pub mod scale_out;
pub mod scenarios;
pub mod server;
pub mod ws;
