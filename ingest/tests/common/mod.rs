//! Helpers shared by the web and feed tests: a local HTTP server and the shared data folder.
//! Each test binary uses a part of them.
#![allow(dead_code)]

pub mod server;

use std::path::PathBuf;

/// The shared data folder (`shared/data` beside the work tree).
pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
}
