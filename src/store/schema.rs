//! The database schema, as numbered migrations applied at start-up. A
//! migration, once released, is never edited: changes go in a new one.

use rusqlite_migration::{Migrations, M};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
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
        ),
        M::up(
            r#"
        -- Incidents, one row per (brand, scope source, start). source is ''
        -- for a whole-brand scope. Times are Unix milliseconds.
        CREATE TABLE incidents (
            id                INTEGER PRIMARY KEY,
            brand             TEXT    NOT NULL,
            source            TEXT    NOT NULL DEFAULT '',
            state             TEXT    NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
            severity          TEXT    NOT NULL CHECK (severity IN ('warning', 'critical')),
            trigger           TEXT    NOT NULL,
            started_at        INTEGER NOT NULL,
            peak_at           INTEGER NOT NULL,
            last_anomalous_at INTEGER NOT NULL,
            observed          INTEGER NOT NULL,
            expected          REAL    NOT NULL,
            peak_observed     INTEGER NOT NULL,
            peak_expected     REAL    NOT NULL,
            negative_share    REAL,
            usual_share       REAL    NOT NULL,
            reach             INTEGER NOT NULL,
            silenced          INTEGER NOT NULL DEFAULT 0,
            acknowledged_by   TEXT,
            acknowledged_at   INTEGER,
            ack_note          TEXT,
            resolved_at       INTEGER,
            resolved_by       TEXT,             -- NULL when it resolved by itself
            notifications     INTEGER NOT NULL DEFAULT 0,
            last_notified_at  INTEGER,
            UNIQUE (brand, source, started_at)
        );
        CREATE INDEX incidents_by_state ON incidents (state, started_at);

        -- Notifications to deliver, written in the same transaction as the
        -- incident change they announce: none is lost to a crash.
        CREATE TABLE outbox (
            id               INTEGER PRIMARY KEY,
            incident_id      INTEGER NOT NULL REFERENCES incidents (id),
            channel          TEXT    NOT NULL,
            event            TEXT    NOT NULL,
            idempotency_key  TEXT    NOT NULL UNIQUE,
            payload          TEXT    NOT NULL,
            status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'gave_up')),
            attempts         INTEGER NOT NULL DEFAULT 0,
            next_attempt_at  INTEGER NOT NULL,
            first_attempt_at INTEGER,           -- wall time of the first try
            last_error       TEXT,
            created_at       INTEGER NOT NULL,
            sent_at          INTEGER
        );
        CREATE INDEX outbox_due ON outbox (status, channel, next_attempt_at);
        CREATE INDEX outbox_by_incident ON outbox (incident_id);

        CREATE TABLE silences (
            id         INTEGER PRIMARY KEY,
            brand      TEXT    NOT NULL,
            source     TEXT    NOT NULL DEFAULT '',  -- '' silences every source of the brand
            starts_at  INTEGER NOT NULL,
            ends_at    INTEGER NOT NULL,
            reason     TEXT    NOT NULL,
            created_by TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX silences_by_brand ON silences (brand, ends_at);

        -- The next bucket each detection scope will judge: detection resumes
        -- there after a restart instead of judging a bucket twice.
        CREATE TABLE detector_progress (
            brand       TEXT    NOT NULL,
            source      TEXT    NOT NULL DEFAULT '',
            next_bucket INTEGER NOT NULL,
            PRIMARY KEY (brand, source)
        );
        "#,
        ),
        M::up(
            r#"
        -- Each digest delivered, once per brand, local day and target.
        CREATE TABLE digest_deliveries (
            brand   TEXT    NOT NULL,
            date    TEXT    NOT NULL,  -- YYYY-MM-DD in the digest's time zone
            target  TEXT    NOT NULL,  -- 'directory' or the email channel's name
            sent_at INTEGER NOT NULL,
            PRIMARY KEY (brand, date, target)
        );
        "#,
        ),
        M::up(
            r#"
        -- Where each live source left off (JSON: newest time and id seen),
        -- written in the same transaction as the mentions it covers.
        CREATE TABLE source_cursors (
            source TEXT PRIMARY KEY,
            cursor TEXT NOT NULL
        );
        -- Each source's health, for `sources`, /healthz and the digest.
        CREATE TABLE source_state (
            source             TEXT PRIMARY KEY,
            last_success       INTEGER,
            last_error         TEXT,
            last_error_at      INTEGER,
            failures           INTEGER NOT NULL DEFAULT 0,  -- consecutive
            rate_limited_until INTEGER
        );
        "#,
        ),
        M::up(
            r#"
        -- Earlier versions of mentions whose author changed them (an edited
        -- review, a new star rating): the mention row holds the newest, each
        -- row here one version it replaced, so an edit is recorded and never
        -- stored as a second mention.
        CREATE TABLE mention_revisions (
            id          INTEGER PRIMARY KEY,
            mention_id  INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
            replaced_at INTEGER NOT NULL,  -- Unix milliseconds, pipeline clock
            text        TEXT    NOT NULL,
            rating      INTEGER,
            compound    REAL    NOT NULL,
            label       TEXT    NOT NULL
        );
        CREATE INDEX mention_revisions_by_mention ON mention_revisions (mention_id);
        "#,
        ),
        M::up(
            r#"
        -- Care staff's work on a mention. No row means 'new'. The row holds
        -- the current state; mention_actions holds every change, who made it
        -- and when, so a change can be undone and the loop shown as closed.
        CREATE TABLE mention_states (
            mention_id INTEGER PRIMARY KEY REFERENCES mentions (id) ON DELETE CASCADE,
            state      TEXT    NOT NULL CHECK (state IN ('new', 'assigned', 'responded', 'ignored')),
            assignee   TEXT,
            reply_url  TEXT,
            note       TEXT,
            updated_by TEXT    NOT NULL,
            updated_at INTEGER NOT NULL   -- Unix milliseconds
        );
        CREATE INDEX mention_states_by_state ON mention_states (state, mention_id);
        CREATE TABLE mention_actions (
            id         INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
            action     TEXT    NOT NULL CHECK (action IN ('respond', 'assign', 'ignore')),
            state      TEXT    NOT NULL,  -- the state the action led to
            assignee   TEXT,
            reply_url  TEXT,
            note       TEXT,
            actor      TEXT    NOT NULL,
            at         INTEGER NOT NULL,
            undone_by  TEXT,
            undone_at  INTEGER
        );
        CREATE INDEX mention_actions_by_mention ON mention_actions (mention_id, id);
        "#,
        ),
        M::up(
            r#"
        -- The author's standing where the network keeps one (Reddit karma).
        ALTER TABLE mentions ADD COLUMN author_karma INTEGER;
        -- 1 when the source gave no time: created_at is when it was first seen.
        ALTER TABLE mentions ADD COLUMN time_estimated INTEGER NOT NULL DEFAULT 0;
        -- The brand's public answer already on the network (owned channels).
        ALTER TABLE mentions ADD COLUMN reply_text TEXT;
        ALTER TABLE mentions ADD COLUMN reply_at   INTEGER;  -- Unix milliseconds
        "#,
        ),
        M::up(
            r#"
        -- Full-text search over what people wrote and who wrote it, for the
        -- inbox. An external-content FTS5 index kept by triggers, so a
        -- mention and its index entry are written in one transaction.
        CREATE VIRTUAL TABLE mentions_fts USING fts5(
            text, author, content = 'mentions', content_rowid = 'id',
            tokenize = 'unicode61 remove_diacritics 2'
        );
        INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild');
        CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN
            INSERT INTO mentions_fts (rowid, text, author) VALUES (new.id, new.text, new.author);
        END;
        CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN
            INSERT INTO mentions_fts (mentions_fts, rowid, text, author) VALUES ('delete', old.id, old.text, old.author);
        END;
        CREATE TRIGGER mentions_fts_update AFTER UPDATE OF text, author ON mentions BEGIN
            INSERT INTO mentions_fts (mentions_fts, rowid, text, author) VALUES ('delete', old.id, old.text, old.author);
            INSERT INTO mentions_fts (rowid, text, author) VALUES (new.id, new.text, new.author);
        END;
        "#,
        ),
        M::up(
            r#"
        -- Who may act (src/accounts.rs). Secrets only as digests: passwords
        -- as argon2id PHC strings, session ids and API tokens as SHA-256.
        CREATE TABLE users (
            id            INTEGER PRIMARY KEY,
            name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
            role          TEXT    NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
            password_hash TEXT    NOT NULL,
            created_at    INTEGER NOT NULL,
            disabled_at   INTEGER,
            last_login_at INTEGER
        );
        CREATE TABLE sessions (
            id_hash      TEXT    PRIMARY KEY,
            user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at   INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL
        );
        CREATE INDEX sessions_by_user ON sessions (user_id);
        CREATE TABLE api_tokens (
            id           INTEGER PRIMARY KEY,
            token_hash   TEXT    NOT NULL UNIQUE,
            user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            label        TEXT    NOT NULL,
            created_at   INTEGER NOT NULL
        );
        CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
        "#,
        ),
        M::up(
            r#"
        -- Staff corrections of the scorer (src/corrections.rs). The mention's
        -- label becomes the corrected one; `computed` keeps the scorer's.
        CREATE TABLE label_corrections (
            id         INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
            computed   TEXT    NOT NULL,
            label_from TEXT    NOT NULL,
            label_to   TEXT    NOT NULL CHECK (label_to IN ('negative', 'neutral', 'positive')),
            actor      TEXT    NOT NULL,
            at         INTEGER NOT NULL
        );
        CREATE INDEX label_corrections_by_mention ON label_corrections (mention_id, id);
        "#,
        ),
        M::up_with_hook(
            r#"
        -- The inbox's order as a number that does not change with time
        -- (`inbox::priority_key`), so that it can be indexed and paged by key.
        ALTER TABLE mentions ADD COLUMN priority_key REAL;
        CREATE INDEX mentions_by_label_priority ON mentions (label, priority_key);
        "#,
            |tx: &rusqlite::Transaction| {
                super::priority::fill_priority_keys(tx)?;
                Ok(())
            },
        ),
        M::up(
            r#"
        -- An author's other mentions (the mention page; following a
        -- detractor after a response).
        CREATE INDEX mentions_by_author ON mentions (source, author, created_at) WHERE author IS NOT NULL;
        "#,
        ),
        M::up(
            r#"
        -- One row per change of a mention's inbox state or label, in commit
        -- order: live updates push the changed rows to every open page
        -- instead of every page fetching its rows again (src/web/events.rs).
        CREATE TABLE inbox_changes (
            seq        INTEGER PRIMARY KEY,
            mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE
        );
        CREATE INDEX inbox_changes_by_mention ON inbox_changes (mention_id);
        "#,
        ),
        M::up(
            r#"
        -- 1: written in a language the scorer does not read, and it found
        -- nothing (`ScoredMention::not_scored`); the label says neutral.
        ALTER TABLE mentions ADD COLUMN not_scored INTEGER NOT NULL DEFAULT 0;
        "#,
        ),
        M::up(
            r#"
        -- Mentions staff said are not about the brands they matched
        -- (src/corrections.rs): the brands they were taken off, who, when.
        CREATE TABLE not_about_us (
            mention_id INTEGER PRIMARY KEY REFERENCES mentions (id) ON DELETE CASCADE,
            brands     TEXT    NOT NULL,  -- joined by char(31)
            actor      TEXT    NOT NULL,
            at         INTEGER NOT NULL
        );
        "#,
        ),
        M::up(
            r#"
        -- Each person's saved inbox views: a name and the inbox's query string.
        CREATE TABLE saved_views (
            id         INTEGER PRIMARY KEY,
            owner      TEXT    NOT NULL COLLATE NOCASE,
            name       TEXT    NOT NULL,
            query      TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (owner, name)
        );
        "#,
        ),
        M::up(
            r#"
        -- The inbox reads pages in priority order from an index; only the
        -- negatives' order needs one (the default queue, and what care staff
        -- work), and keeping the other two thirds of mentions out of it makes
        -- every insert cheaper (replay about 15% faster).
        DROP INDEX mentions_by_label_priority;
        CREATE INDEX mentions_negative_by_priority ON mentions (priority_key) WHERE label = 'negative';
        "#,
        ),
        M::up(
            r#"
        -- Replies posted from the inbox through a source's account
        -- (src/reply.rs): an outbox, so that each is posted exactly once.
        -- 'sending' means an attempt began and its outcome is not known:
        -- the network is asked before anything is sent again.
        CREATE TABLE replies (
            id                 INTEGER PRIMARY KEY,
            mention_id         INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
            account            TEXT    NOT NULL,  -- the [[sources]] name that posts it
            text               TEXT    NOT NULL,
            key                TEXT    NOT NULL UNIQUE,  -- idempotency key, Bluesky record key
            requested_by       TEXT    NOT NULL,
            requested_at       INTEGER NOT NULL,
            status             TEXT    NOT NULL DEFAULT 'queued'
                               CHECK (status IN ('queued', 'sending', 'posted', 'failed')),
            attempts           INTEGER NOT NULL DEFAULT 0,
            next_attempt_at    INTEGER NOT NULL,
            first_attempt_at   INTEGER,
            last_error         TEXT,
            in_doubt           INTEGER NOT NULL DEFAULT 0,  -- a failed reply that may have been posted
            remote_id          TEXT,
            remote_url         TEXT,
            posted_at          INTEGER
        );
        CREATE INDEX replies_due ON replies (next_attempt_at) WHERE status IN ('queued', 'sending');
        CREATE INDEX replies_by_mention ON replies (mention_id);
        -- Saved replies: a brand's templates, with {author} and {brand}.
        CREATE TABLE reply_templates (
            id         INTEGER PRIMARY KEY,
            brand      TEXT    NOT NULL,
            name       TEXT    NOT NULL,
            body       TEXT    NOT NULL,
            created_by TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (brand, name)
        );
        "#,
        ),
        M::up(
            r#"
        -- Campaigns and bursts (src/spam.rs): near-duplicate texts from many
        -- accounts, or many mentions from one, per brand. A group is shown
        -- as its first mention; detection weighs the rest by
        -- mention_brands.weight.
        CREATE TABLE spam_groups (
            id             INTEGER PRIMARY KEY,
            brand          TEXT    NOT NULL,
            kind           TEXT    NOT NULL CHECK (kind IN ('campaign', 'burst')),
            representative INTEGER NOT NULL,  -- the first mention posted
            formed_at      INTEGER NOT NULL
        );
        ALTER TABLE mentions ADD COLUMN fingerprint INTEGER;  -- SimHash of the words, for copies
        ALTER TABLE mentions ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;  -- behind its group's first, or blocked
        ALTER TABLE mention_brands ADD COLUMN weight REAL NOT NULL DEFAULT 1;  -- what it counts in detection
        ALTER TABLE mention_brands ADD COLUMN group_id INTEGER REFERENCES spam_groups (id) ON DELETE SET NULL;
        ALTER TABLE mention_brands ADD COLUMN blocked TEXT;  -- why, when a blocklist or learning says so
        CREATE INDEX mention_brands_by_group ON mention_brands (group_id) WHERE group_id IS NOT NULL;
        -- Authors staff took off a brand ("not about us"), counted: past
        -- [spam] learn_after their next mentions are blocked for it.
        CREATE TABLE learnt_authors (
            source TEXT    NOT NULL,
            author TEXT    NOT NULL,
            brand  TEXT    NOT NULL,
            marks  INTEGER NOT NULL,
            since  INTEGER NOT NULL,
            PRIMARY KEY (source, author, brand)
        ) WITHOUT ROWID;
        "#,
        ),
        M::up(
            r#"
        -- New mentions enter the full-text index once per batch, from the
        -- writer (store::writer::index_new), not row by row from a trigger:
        -- FTS5 writes its pending terms to disk at every statement
        -- savepoint, so a trigger made every later statement of the batch
        -- flush the row before (a quarter of replay's time). Deletes and
        -- edits keep their triggers.
        DROP TRIGGER mentions_fts_insert;
        "#,
        ),
        M::up(
            r#"
        -- The inbox counts the mentions it shows (up to 10,000) by label
        -- and time, skipping the folded copies of a campaign: without
        -- `folded` in an index every counted row was read from the table
        -- (9 ms a request at 100,000 open negatives instead of 1).
        CREATE INDEX mentions_shown_by_label_time ON mentions (label, created_at) WHERE folded = 0;
        "#,
        ),
    ])
}
