//! The documents and restrictions a command line names: one document picked by id, title or
//! path ([`pick_one`]), and the search filter of `--kind`, `--tag`, `--doc`, `--since`, `--until`
//! and `--lang` ([`build_filter`]), shared by `search`, `ask`, `show`, `rm` and `related`.

use anyhow::{Context as _, Result, bail};
use lore_index::Library;
use lore_index::catalog::DocSummary;
use lore_index::{VectorFilter, epoch_of};

use crate::cli::FilterArgs;

/// Picks the one document a user meant, or explains why it can't.
pub fn pick_one(mut found: Vec<DocSummary>, spec: &str) -> Result<DocSummary> {
    match found.len() {
        0 => bail!("no document matches {spec:?} (try `lore ls`)"),
        1 => Ok(found.remove(0)),
        n => {
            let list: Vec<String> =
                found.iter().take(10).map(|d| format!("  {}  {}", d.id, d.title)).collect();
            bail!("{n} documents match {spec:?}; name one by id:\n{}", list.join("\n"))
        }
    }
}

/// The search restrictions the command line asks for.
pub fn build_filter(lib: &Library, args: &FilterArgs) -> Result<VectorFilter> {
    let mut filter = VectorFilter { kinds: args.kind.clone(), tags: args.tag.clone(), ..Default::default() };
    for k in &filter.kinds {
        k.parse::<lore_ingest::Kind>().map_err(anyhow::Error::msg)?;
    }
    for spec in &args.doc {
        filter.doc_ids.push(pick_one(lib.resolve(spec)?, spec)?.id);
    }
    let date = |s: &Option<String>, end: bool| -> Result<Option<i64>> {
        match s {
            None => Ok(None),
            Some(d) => {
                let t = epoch_of(d).with_context(|| format!("{d:?} is not a date (YYYY-MM-DD)"))?;
                Ok(Some(if end && d.len() == 10 { t + 86_399 } else { t }))
            }
        }
    };
    filter.date_from = date(&args.since, false)?;
    filter.date_to = date(&args.until, true)?;
    if let Some(lang) = &args.lang {
        let code = lang.trim().to_ascii_lowercase();
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
            bail!("{lang:?} is not a language code (two letters, ISO 639-1: en, zh, ja, de, ...)");
        }
        filter.lang = Some(code);
    }
    Ok(filter)
}
