//! Turning a panic inside a third-party parser into an error for the item being loaded.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{IngestError, Result};

/// Runs `f`; a panic inside it becomes [`IngestError::Corrupt`] naming `item` and `format`.
pub(crate) fn catch<T>(item: &str, format: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_string());
            Err(IngestError::Corrupt {
                item: item.to_string(),
                format,
                reason: format!("the parser failed on this input ({what})"),
            })
        }
    }
}
