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
];
