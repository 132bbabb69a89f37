import GRDB

/// The journal's migrations. A migration never changes once shipped; add a new one.
enum JournalSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Append-only, keyed by an integer sequence: no index on random ids (see DESIGN.md).
            try db.execute(
                sql: """
                    CREATE TABLE journal(
                        pos INTEGER PRIMARY KEY,
                        kind INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        source TEXT,
                        event_id TEXT,
                        type TEXT,
                        topic BLOB NOT NULL,
                        body BLOB NOT NULL,
                        reason TEXT,
                        detail TEXT
                    );
                    CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    CREATE TABLE checkpoint(handler TEXT PRIMARY KEY, state BLOB NOT NULL);
                    """)
        }
        migrator.registerMigration("v2-retained-checkpoints") { db in
            // Checkpoints kept besides the live one, for compaction: the `candidate` becomes the
            // `base` once it is older than the retention; the journal then starts after the base.
            try db.execute(
                sql: """
                    CREATE TABLE retained_checkpoint(
                        kind TEXT NOT NULL, handler TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY(kind, handler));
                    """)
        }
        migrator.registerMigration("v3-alert-history") { db in
            // The alerts' audit trail, one row per published change, kept through compaction.
            try db.execute(
                sql: """
                    CREATE TABLE alert_history(seq INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, body BLOB NOT NULL);
                    CREATE INDEX alert_history_by_fingerprint ON alert_history(fingerprint, seq);
                    """)
        }
        return migrator
    }
}
