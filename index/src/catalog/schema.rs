//! Schema migrations of the catalog, applied in order and recorded in `PRAGMA user_version`.

/// Each entry moves the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: sources, documents, sections, tags, chunks, the ingest journal, key/value metadata.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE roots (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        path     TEXT NOT NULL UNIQUE,
        kind     TEXT NOT NULL,
        tags     TEXT NOT NULL DEFAULT '[]',
        added_at TEXT NOT NULL
    );
    CREATE TABLE documents (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        source        TEXT NOT NULL UNIQUE,
        root_id       INTEGER REFERENCES roots(id) ON DELETE SET NULL,
        url           TEXT,
        kind          TEXT NOT NULL,
        title         TEXT NOT NULL,
        authors       TEXT NOT NULL DEFAULT '[]',
        language      TEXT,
        published     TEXT,
        hash          TEXT NOT NULL,
        byte_len      INTEGER NOT NULL,
        page_count    INTEGER,
        file_mtime    INTEGER,
        file_size     INTEGER,
        added_at      TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX documents_hash ON documents(hash);
    CREATE TABLE sections (
        doc_id       INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal      INTEGER NOT NULL,
        heading_path TEXT NOT NULL,
        anchor       TEXT,
        page_start   INTEGER,
        page_end     INTEGER,
        chars        INTEGER NOT NULL,
        PRIMARY KEY (doc_id, ordinal)
    ) WITHOUT ROWID;
    CREATE TABLE tags (
        doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        tag    TEXT NOT NULL,
        PRIMARY KEY (doc_id, tag)
    ) WITHOUT ROWID;
    CREATE INDEX tags_tag ON tags(tag);
    CREATE TABLE chunks (
        id           INTEGER PRIMARY KEY,
        doc_id       INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal      INTEGER NOT NULL,
        section      INTEGER NOT NULL,
        text         TEXT NOT NULL,
        heading_path TEXT NOT NULL,
        anchor       TEXT,
        page_start   INTEGER,
        page_end     INTEGER,
        char_start   INTEGER NOT NULL,
        char_end     INTEGER NOT NULL,
        tokens       INTEGER NOT NULL,
        UNIQUE (doc_id, ordinal)
    );
    CREATE TABLE journal (
        doc_id     INTEGER PRIMARY KEY,
        op         TEXT NOT NULL CHECK (op IN ('index', 'delete')),
        started_at TEXT NOT NULL
    );
    "#, // 2: conversations with the agent and their turns (question, answer, citations as JSON).
    r#"
    CREATE TABLE conversations (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        title      TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE turns (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        question        TEXT NOT NULL,
        query           TEXT NOT NULL,
        answer          TEXT NOT NULL,
        citations       TEXT NOT NULL DEFAULT '[]',
        mode            TEXT NOT NULL,
        model           TEXT,
        created_at      TEXT NOT NULL
    );
    CREATE INDEX turns_conversation ON turns(conversation_id, id);
    "#,
    // 3: files that failed to load, with the state they were in, so that `lore sync` does not
    // parse an unchanged bad file again on every run.
    r#"
    CREATE TABLE failed_files (
        path    TEXT PRIMARY KEY,
        mtime   INTEGER NOT NULL,
        size    INTEGER NOT NULL,
        message TEXT NOT NULL,
        version TEXT NOT NULL,
        at      TEXT NOT NULL
    );
    "#,
    // 4: feeds and the items each has delivered, and the site a web page or news item belongs to.
    r#"
    CREATE TABLE feeds (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        url           TEXT NOT NULL UNIQUE,
        title         TEXT,
        site_url      TEXT,
        tags          TEXT NOT NULL DEFAULT '[]',
        full_text     TEXT NOT NULL DEFAULT 'auto',
        keep_items    INTEGER,
        keep_days     INTEGER,
        etag          TEXT,
        last_modified TEXT,
        last_fetch_at TEXT,
        last_status   TEXT,
        last_error    TEXT,
        last_new      INTEGER NOT NULL DEFAULT 0,
        added_at      TEXT NOT NULL
    );
    CREATE TABLE feed_items (
        feed_id    INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        key        TEXT NOT NULL,
        doc_id     INTEGER REFERENCES documents(id) ON DELETE SET NULL,
        item_hash  TEXT NOT NULL,
        published  TEXT,
        first_seen TEXT NOT NULL,
        read       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (feed_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX feed_items_doc ON feed_items(doc_id);
    ALTER TABLE documents ADD COLUMN site TEXT;
    "#,
    // 5: the language of each chunk, which picks its analyzer in the keyword index (a chunk of
    // English text in a German manual, of Chinese in an English book). Older chunks have none
    // and are detected again when indexed.
    r#"
    ALTER TABLE chunks ADD COLUMN language TEXT;
    "#,
    // 6: a library-wide sequence number, raised each time a document's new version becomes
    // visible, and the number each document was last made visible at. A reader that took its
    // view of the indexes at sequence `s` leaves out documents made visible after `s`: its
    // indexes may hold their old chunks under ids the catalog now gives to new ones.
    r#"
    ALTER TABLE documents ADD COLUMN visible_seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX documents_visible_seq ON documents(visible_seq);
    INSERT OR IGNORE INTO meta(key, value) VALUES ('visible_seq', '0');
    "#,
    // 7: the other paths of a document: files with the same content as one already in the
    // library, kept once and remembered at each path (the document's `source` is its first).
    r#"
    CREATE TABLE copies (
        path       TEXT PRIMARY KEY,
        doc_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        root_id    INTEGER REFERENCES roots(id) ON DELETE SET NULL,
        file_mtime INTEGER,
        file_size  INTEGER,
        added_at   TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX copies_doc ON copies(doc_id);
    "#,
    // 8: the source lines a chunk of a plain-text or Markdown file spans. Older chunks have none.
    r#"
    ALTER TABLE chunks ADD COLUMN line_start INTEGER;
    ALTER TABLE chunks ADD COLUMN line_end INTEGER;
    "#,
    // 9: the chunks that still lack their vector. An add writes a document to the catalog and the
    // keyword index first (searchable by keywords at once), then embeds its chunks: each chunk is
    // recorded here with the document and cleared once its vector is flushed to the vector store.
    // Replacing or removing a document's chunks drops their rows with them.
    r#"
    CREATE TABLE vectors_pending (
        chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE
    );
    "#,
    // 10: whether a chunk's text was read by OCR from a scanned page. Older chunks were not.
    r#"
    ALTER TABLE chunks ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0;
    "#,
    // 11: summaries of a document's sections made by a chat model for whole-document and
    // chapter questions (map-reduce), kept so that asking again is fast. Each row names the
    // version of the document it was made from (`doc_hash`); a changed document's rows are
    // dropped when its new version is written, a removed document's with it. `key` is a hash of
    // what the model was given (prompt, model, text), so a different model or grouping misses.
    r#"
    CREATE TABLE section_summaries (
        doc_id        INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        key           TEXT NOT NULL,
        doc_hash      TEXT NOT NULL,
        first_section INTEGER NOT NULL,
        last_section  INTEGER NOT NULL,
        model         TEXT NOT NULL,
        summary       TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        PRIMARY KEY (doc_id, key)
    ) WITHOUT ROWID;
    "#,
];
