//! `--redis rediss://` against a TLS-only `redis-server`: a binary of its
//! own because the test sets `SSL_CERT_FILE` in its process environment
//! (the instances it starts inherit it), which no other test should see.
//! Run it: `cargo test --test scale_out_tls`.

mod rediss;
