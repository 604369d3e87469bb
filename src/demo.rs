//! The demo the binary carries: the generated demo feed
//! (`fixtures/demo/feed.jsonl`, made by `examples/gen_feed.rs`), compiled
//! in so that `run --demo` works from any directory with an installed or
//! copied binary, offline. About 2 MB.

/// The demo feed's bytes, one mention per line.
pub const FEED: &[u8] = include_bytes!("../fixtures/demo/feed.jsonl");

/// How the demo feed is named in messages.
pub const FEED_NAME: &str = "the embedded demo feed";
