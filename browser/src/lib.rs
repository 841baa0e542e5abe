//! Nothing here: this package holds the browser tests of chat-server
//! (`tests/`), kept apart so that the server crate's dev-dependencies do not
//! include headless_chrome. Run them with `make test-browser`.
