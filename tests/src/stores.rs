//! What each of a library's three stores holds, read the way `lore search` reads them, and the
//! checks the crash and concurrency tests make on it: the catalog, the keyword index and the
//! vector store hold exactly the same chunks, none twice (between the two phases of an add, the
//! vector store lacks the chunks the catalog records as awaiting their vectors), and the same
//! content: the keyword index stores each chunk's text as the catalog has it, and each vector is
//! the embedding of the passage lore embeds for the catalog's chunk (compared with a fresh
//! embedding of it, within [`MIN_COSINE`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use lore_index::catalog::{Catalog, JournalOp, doc_of_chunk};
use lore_index::{Embedder, EngineOptions, Engines};

/// The chunk ids of each store of a library at one moment (read while no writer runs).
#[derive(Debug, Clone)]
pub struct StoreView {
    /// Chunk ids of each document in the catalog.
    pub catalog: BTreeMap<i64, Vec<i64>>,
    /// Documents in the catalog's journal: writes or removals an interrupted run left.
    pub journal: BTreeMap<i64, JournalOp>,
    /// Chunk ids in the keyword index, sorted, duplicates kept.
    pub keyword: Vec<i64>,
    /// Chunk ids in the vector store, sorted, duplicates kept.
    pub vectors: Vec<i64>,
    /// Chunk ids the catalog records as awaiting their vectors.
    pub vectors_pending: BTreeSet<i64>,
    /// The text of each catalog chunk, and the passage lore embeds for it.
    pub texts: BTreeMap<i64, (String, String)>,
    /// The text the keyword index stores for each chunk it holds (the last one of a duplicate).
    pub keyword_texts: BTreeMap<i64, String>,
    /// The stored vector of each chunk of a catalog document that the vector store holds.
    pub vector_values: BTreeMap<i64, Vec<f32>>,
}

/// The lowest cosine similarity accepted between a chunk's stored vector and a fresh embedding
/// of its passage. The int8 model quantises its activations per batch, so the same passage
/// embedded beside others comes out slightly different (and the store keeps half precision);
/// another chunk's vector, even one sharing a sentence with it, lies below.
pub const MIN_COSINE: f32 = 0.99;

/// How the tests open the derived indexes: the defaults `lore` uses, on a point-in-time copy
/// of the vector store so that a `lore` writer is never locked out by the test.
pub fn engine_options() -> EngineOptions {
    EngineOptions {
        runtime_dir: lore_index::default_runtime_dir().expect("a home directory"),
        snapshot_reader: true,
        ..EngineOptions::default()
    }
}

/// The embedding model, loaded once per test process (the stores are opened with it).
fn embedder() -> Arc<Embedder> {
    static EMBEDDER: OnceLock<Arc<Embedder>> = OnceLock::new();
    EMBEDDER.get_or_init(|| Engines::embedder(&engine_options()).expect("the embedding model loads")).clone()
}

impl StoreView {
    /// Reads the library at `home` as a reader does (it never waits for a writer).
    pub fn read(home: &Path) -> StoreView {
        StoreView::open(home).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads the library at `home`, or says why it does not open.
    pub fn open(home: &Path) -> Result<StoreView, String> {
        StoreView::open_with(home, &engine_options())
    }

    /// Reads the library at `home` with these options (a library keeping its vectors on a Qdrant
    /// server is read with its [`EngineOptions::server`]), or says why it does not open.
    pub fn open_with(home: &Path, options: &EngineOptions) -> Result<StoreView, String> {
        // A copy of the vector store taken during a flush may not open; the next one does.
        let mut last = None;
        for _ in 0..5 {
            match StoreView::try_read(home, options) {
                Ok(view) => return Ok(view),
                Err(e) => last = Some(e),
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let why = last.map(|e| e.to_string()).unwrap_or_default();
        Err(format!("the library at {} does not open: {why}", home.display()))
    }

    fn try_read(home: &Path, options: &EngineOptions) -> lore_index::Result<StoreView> {
        let path = home.join(lore_index::layout::CATALOG_FILE);
        let catalog_db = Catalog::open_read_only(&path)?;
        let engines = Engines::open_reader(home, embedder(), options)?;
        let mut catalog: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for id in catalog_db.all_doc_ids()? {
            catalog.insert(id, Vec::new());
        }
        for id in catalog_db.all_chunk_ids()? {
            catalog.entry(doc_of_chunk(id)).or_default().push(id);
        }
        let journal = catalog_db.journal()?.into_iter().map(|e| (e.doc_id, e.op)).collect();
        let vectors_pending = catalog_db.pending_chunk_ids()?.into_iter().collect();
        let mut keyword = engines.keyword.all_ids()?;
        keyword.sort_unstable();
        let mut vectors = engines.vectors.all_ids()?;
        vectors.sort_unstable();
        let mut texts = BTreeMap::new();
        let mut vector_values = BTreeMap::new();
        for &doc_id in catalog.keys() {
            let Some(doc) = catalog_db.get(doc_id)? else { continue };
            for chunk in catalog_db.chunks_of(doc_id, 0, usize::MAX >> 1)? {
                let passage = Engines::passage_text(engines.passage_context, &doc.title, &chunk);
                texts.insert(chunk.id, (chunk.text, passage));
            }
            vector_values.extend(engines.vectors.doc_vectors(doc_id)?);
        }
        let keyword_texts = engines.keyword.stored_texts()?.into_iter().collect();
        Ok(StoreView {
            catalog,
            journal,
            keyword,
            vectors,
            vectors_pending,
            texts,
            keyword_texts,
            vector_values,
        })
    }

    /// Catalog chunk ids, sorted.
    pub fn catalog_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.catalog.values().flatten().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Number of documents in the catalog that are not being removed.
    pub fn documents(&self) -> usize {
        self.catalog.keys().filter(|id| self.journal.get(id) != Some(&JournalOp::Delete)).count()
    }

    /// The three stores hold exactly the same chunks, none twice, and nothing is left in the
    /// journal nor awaits its vector: the state after every completed command, and after the
    /// repair that `lore doctor --repair` does.
    pub fn check_exact(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if !self.journal.is_empty() {
            problems.push(format!("journal not empty: {:?}", first(self.journal.iter(), 10)));
        }
        if !self.vectors_pending.is_empty() {
            problems.push(format!(
                "{} chunks still await their vectors, e.g. {:?}",
                self.vectors_pending.len(),
                first(self.vectors_pending.iter(), 5)
            ));
        }
        problems.extend(self.duplicates());
        let catalog = self.catalog_ids();
        for (name, ids) in [("keyword index", &self.keyword), ("vector store", &self.vectors)] {
            let (missing, extra) = difference(&catalog, ids);
            if !missing.is_empty() {
                problems.push(format!(
                    "{} catalog chunks missing from the {name} (of {} documents), e.g. {:?}",
                    missing.len(),
                    docs_of(&missing).len(),
                    first(missing.iter(), 5)
                ));
            }
            if !extra.is_empty() {
                problems.push(format!(
                    "{} orphaned chunks in the {name} (not in the catalog), e.g. {:?}",
                    extra.len(),
                    first(extra.iter(), 5)
                ));
            }
        }
        problems.extend(self.content(&self.texts.keys().copied().collect()));
        self.report(problems)
    }

    /// Of the chunks `ids`: those whose text in the keyword index is not the catalog's, and
    /// those whose stored vector is not the embedding of their passage (cosine below
    /// [`MIN_COSINE`] with a fresh one). Chunks an index lacks are left to the id checks.
    fn content(&self, ids: &BTreeSet<i64>) -> Vec<String> {
        let mut problems = Vec::new();
        let wrong_text: Vec<i64> = ids
            .iter()
            .filter(|id| {
                let catalog = self.texts.get(id).map(|(text, _)| text);
                matches!((catalog, self.keyword_texts.get(id)), (Some(c), Some(k)) if c != k)
            })
            .copied()
            .collect();
        if !wrong_text.is_empty() {
            problems.push(format!(
                "{} chunks hold another text in the keyword index than in the catalog, e.g. {:?}",
                wrong_text.len(),
                first(wrong_text.iter().map(|id| (id, &self.texts[id].0, &self.keyword_texts[id])), 2)
            ));
        }
        let held: Vec<(i64, &str, &[f32])> = ids
            .iter()
            .filter_map(|id| {
                Some((*id, self.texts.get(id)?.1.as_str(), self.vector_values.get(id)?.as_slice()))
            })
            .collect();
        let fresh = fresh_embeddings(&held.iter().map(|(_, p, _)| *p).collect::<Vec<_>>());
        let mut wrong_vector: Vec<(i64, f32)> = held
            .iter()
            .map(|(id, passage, stored)| (*id, cosine(stored, &fresh[*passage])))
            // A NaN cosine (a vector of NaNs) counts as wrong.
            .filter(|(_, c)| c.is_nan() || *c < MIN_COSINE)
            .collect();
        wrong_vector.sort_by(|a, b| a.1.total_cmp(&b.1));
        if !wrong_vector.is_empty() {
            problems.push(format!(
                "{} chunks have a vector that is not the embedding of their text (cosine below {MIN_COSINE}), \
                 e.g. (chunk, cosine) {:?}",
                wrong_vector.len(),
                first(wrong_vector.iter(), 5)
            ));
        }
        problems
    }

    /// The lowest cosine between a stored vector and a fresh embedding of its chunk's passage,
    /// over the chunks that have both (1.0 when none has): how close [`MIN_COSINE`] is.
    pub fn lowest_cosine(&self) -> f32 {
        let held: Vec<(&str, &[f32])> = self
            .vector_values
            .iter()
            .filter_map(|(id, v)| Some((self.texts.get(id)?.1.as_str(), v.as_slice())))
            .collect();
        let fresh = fresh_embeddings(&held.iter().map(|(p, _)| *p).collect::<Vec<_>>());
        held.iter().map(|(p, v)| cosine(v, &fresh[*p])).fold(1.0, f32::min)
    }

    /// What a reader may see after a crash, before any repair: documents outside the journal
    /// are whole and the same in all three stores, except that the vector store may lack the
    /// chunks the catalog records as awaiting vectors; chunks of journalled documents may be
    /// anywhere; nothing else is in the indexes; nothing is there twice.
    pub fn check_committed(&self) -> Result<(), String> {
        let mut problems = self.duplicates();
        let settled: BTreeSet<i64> = self
            .catalog
            .iter()
            .filter(|(d, _)| !self.journal.contains_key(d))
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        let known: BTreeSet<i64> = self.catalog_ids().into_iter().collect();
        for (name, ids) in [("keyword index", &self.keyword), ("vector store", &self.vectors)] {
            let held: BTreeSet<i64> = ids.iter().copied().collect();
            let missing: Vec<i64> = settled
                .difference(&held)
                .filter(|id| name != "vector store" || !self.vectors_pending.contains(id))
                .copied()
                .collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "{} chunks of settled documents {:?} missing from the {name}",
                    missing.len(),
                    first(docs_of(&missing).iter(), 10)
                ));
            }
            let stray: Vec<i64> = held
                .iter()
                .filter(|id| !known.contains(id) && !self.journal.contains_key(&doc_of_chunk(**id)))
                .copied()
                .collect();
            if !stray.is_empty() {
                problems.push(format!(
                    "{} chunks in the {name} belong to no document of the catalog or journal, e.g. {:?}",
                    stray.len(),
                    first(stray.iter(), 5)
                ));
            }
        }
        problems.extend(self.content(&settled));
        self.report(problems)
    }

    fn duplicates(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, ids) in [
            ("catalog", &self.catalog_ids()),
            ("keyword index", &self.keyword),
            ("vector store", &self.vectors),
        ] {
            let dups: Vec<i64> = ids.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
            if !dups.is_empty() {
                problems.push(format!(
                    "{} duplicated chunks in the {name}, e.g. {:?}",
                    dups.len(),
                    first(dups.iter(), 5)
                ));
            }
        }
        problems
    }

    fn report(&self, problems: Vec<String>) -> Result<(), String> {
        if problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{}\n(catalog: {} documents, {} chunks; keyword: {}; vectors: {}; journal: {}; awaiting vectors: {})",
            problems.join("\n"),
            self.catalog.len(),
            self.catalog_ids().len(),
            self.keyword.len(),
            self.vectors.len(),
            self.journal.len(),
            self.vectors_pending.len()
        ))
    }
}

/// Documents in the catalog, counted without the indexes (cheap enough to poll while a writer
/// runs; 0 until the writer has opened the library). A catalog being created is not opened:
/// a reader that opens it then races the writer's schema set-up (see the concurrency tests).
pub fn catalog_documents(home: &Path) -> u64 {
    let path = home.join(lore_index::layout::CATALOG_FILE);
    // The keyword index is created after the catalog's schema.
    if !path.exists() || !home.join(lore_index::layout::KEYWORD_DIR).join("meta.json").exists() {
        return 0;
    }
    Catalog::open_read_only(&path).and_then(|c| c.counts()).map(|(docs, _)| docs).unwrap_or(0)
}

/// Fresh embeddings of `passages` with the model the stores are opened with, by passage. Each
/// distinct passage is embedded once per test process, beside the others missing at the time.
fn fresh_embeddings(passages: &[&str]) -> HashMap<String, Vec<f32>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Vec<f32>>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
    let mut missing: Vec<String> =
        passages.iter().filter(|p| !cache.contains_key(**p)).map(|p| p.to_string()).collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        let vectors = embedder().embed_passages(&missing).expect("the embedding model embeds");
        cache.extend(missing.into_iter().zip(vectors));
    }
    passages.iter().map(|p| (p.to_string(), cache[*p].clone())).collect()
}

/// Cosine similarity of two vectors (0 when either is zero or their lengths differ).
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let n = norm(a) * norm(b);
    if n > 0.0 { dot / n } else { 0.0 }
}

/// Ids in `a` but not in `b`, and in `b` but not in `a` (both sorted).
fn difference(a: &[i64], b: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let (sa, sb): (BTreeSet<i64>, BTreeSet<i64>) = (a.iter().copied().collect(), b.iter().copied().collect());
    (sa.difference(&sb).copied().collect(), sb.difference(&sa).copied().collect())
}

fn docs_of(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().map(|&id| doc_of_chunk(id)).collect()
}

fn first<T: std::fmt::Debug>(items: impl Iterator<Item = T>, n: usize) -> Vec<T> {
    items.take(n).collect()
}
