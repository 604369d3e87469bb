//! The database schema, as numbered migrations applied at start-up. A
//! migration, once released, is never edited: changes go in a new one.

use rusqlite_migration::{Migrations, M};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(
        r#"
        -- One row per (source, source_id): the unique key is what makes
        -- replaying or re-polling the same items store nothing twice.
        CREATE TABLE mentions (
            id           INTEGER PRIMARY KEY,
            source       TEXT    NOT NULL,
            source_id    TEXT    NOT NULL,
            created_at   INTEGER NOT NULL,  -- Unix milliseconds, UTC
            author       TEXT,
            followers    INTEGER,
            text         TEXT    NOT NULL,  -- capped; text_chars is the original length
            text_chars   INTEGER NOT NULL,
            url          TEXT,
            likes        INTEGER,
            reposts      INTEGER,
            replies      INTEGER,
            views        INTEGER,
            rating       INTEGER CHECK (rating BETWEEN 1 AND 5),
            lang         TEXT,
            brand_hint   TEXT,              -- the feed's `brand`, kept so export round-trips
            compound     REAL    NOT NULL,
            pos          REAL    NOT NULL,
            neu          REAL    NOT NULL,
            neg          REAL    NOT NULL,
            label        TEXT    NOT NULL CHECK (label IN ('negative', 'neutral', 'positive')),
            reach        INTEGER NOT NULL CHECK (reach >= 0),
            reach_inputs TEXT    NOT NULL,  -- JSON: the formula's inputs
            ingested_at  INTEGER NOT NULL,  -- Unix milliseconds, from the pipeline's clock
            UNIQUE (source, source_id)
        );
        CREATE INDEX mentions_by_time ON mentions (created_at);
        CREATE INDEX mentions_by_label_time ON mentions (label, created_at);

        -- Which brands a mention is about, with the columns the per-brand
        -- queries filter and sort on copied in, so that they read one index.
        CREATE TABLE mention_brands (
            brand      TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
            label      TEXT    NOT NULL,
            reach      INTEGER NOT NULL,
            PRIMARY KEY (brand, created_at, mention_id)
        ) WITHOUT ROWID;
        CREATE INDEX mention_brands_by_label ON mention_brands (brand, label, created_at);
        CREATE INDEX mention_brands_by_mention ON mention_brands (mention_id);
        "#,
    )])
}
