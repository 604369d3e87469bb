-- Leases (src/store/postgres/lease.rs): which process does which piece of
-- shared work (polling a source, detecting a brand). PostgreSQL only: one
-- SQLite file has one process, which does everything.
CREATE TABLE lease_holders (
    holder  TEXT   PRIMARY KEY,  -- host:pid:start, unique per process
    host    TEXT   NOT NULL,
    pid     BIGINT NOT NULL,
    seen_at BIGINT NOT NULL      -- Unix ms, the database's clock
);

CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,  -- 'source:reddit', 'detect:Acme Air'
    holder     TEXT,
    expires_at BIGINT NOT NULL DEFAULT 0,  -- Unix ms, the database's clock
    taken_at   BIGINT
);
CREATE INDEX leases_by_holder ON leases (holder);
