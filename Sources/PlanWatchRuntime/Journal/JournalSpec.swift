import PlanWatchModel

/// The journal's schema, migrations and meta keys, written once for both stores. A migration
/// never changes once shipped: add a new one at the end.
///
/// SQLite records migrations by name (GRDB's `DatabaseMigrator`); PostgreSQL records how many
/// statements it has applied (`planwatch_schema.version`), in the same order.
enum JournalSpec {
    enum Dialect: Sendable { case sqlite, postgres }

    struct Migration: Sendable {
        let name: String
        let statements: @Sendable (Dialect) -> [String]
    }

    static let migrations: [Migration] = [
        Migration(name: "v1") { d in
            [
                // Append-only, keyed by an integer sequence: no index on random ids (see DESIGN.md).
                """
                CREATE TABLE journal(
                    pos \(d.key), kind \(d.smallInt) NOT NULL, received_at \(d.bigInt) NOT NULL,
                    source TEXT, event_id TEXT, type TEXT, topic \(d.blob) NOT NULL, body \(d.blob) NOT NULL,
                    reason TEXT, detail TEXT)
                """,
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value \(d.bigInt) NOT NULL)",
                "CREATE TABLE checkpoint(handler TEXT PRIMARY KEY, state \(d.blob) NOT NULL)",
            ]
        },
        // Checkpoints kept besides the live one, for compaction: the `candidate` becomes the
        // `base` once it is older than the retention; the journal then starts after the base.
        Migration(name: "v2-retained-checkpoints") { d in
            [
                "CREATE TABLE retained_checkpoint(kind TEXT NOT NULL, handler TEXT NOT NULL, state \(d.blob) NOT NULL, PRIMARY KEY(kind, handler))"
            ]
        },
        // The alerts' audit trail, one row per published change, kept through compaction.
        Migration(name: "v3-alert-history") { d in
            [
                "CREATE TABLE alert_history(seq \(d.bigInt) PRIMARY KEY, fingerprint TEXT NOT NULL, body \(d.blob) NOT NULL)",
                "CREATE INDEX alert_history_by_fingerprint ON alert_history(fingerprint, seq)",
            ]
        },
        // `event_key`: `(source, id)` exactly as the peer sent them, NUL and all (TEXT columns
        // cannot hold a NUL in PostgreSQL and are cut at one by SQLite's C API); `source`,
        // `event_id` and `detail` stay for people reading the table, NUL shown as U+FFFD.
        // `quarantine`: entries a handler may no longer see, because the daemon died in it.
        Migration(name: "v4-event-keys-and-quarantine") { d in
            [
                "ALTER TABLE journal ADD COLUMN event_key \(d.blob)",
                """
                CREATE TABLE quarantine(
                    pos \(d.bigInt) NOT NULL, handler TEXT NOT NULL, reason TEXT NOT NULL, created_at \(d.bigInt) NOT NULL,
                    PRIMARY KEY(pos, handler))
                """,
            ]
        },
        // Checkpoints a subject at a time: the handlers' ``SubjectMap``s (a million classes)
        // are rows, rewritten only when they change, instead of being part of the state's JSON.
        // `path` is where the map is in the state, `key` the subject's key as UTF-8.
        Migration(name: "v5-checkpoint-subjects") { d in
            [
                """
                CREATE TABLE checkpoint_subject(
                    handler TEXT NOT NULL, path TEXT NOT NULL, key \(d.blob) NOT NULL, value \(d.blob) NOT NULL,
                    PRIMARY KEY(handler, path, key))\(d.withoutRowID)
                """,
                """
                CREATE TABLE retained_subject(
                    kind TEXT NOT NULL, handler TEXT NOT NULL, path TEXT NOT NULL, key \(d.blob) NOT NULL, value \(d.blob) NOT NULL,
                    PRIMARY KEY(kind, handler, path, key))\(d.withoutRowID)
                """,
            ]
        },
    ]

    /// Every statement in order, for PostgreSQL's version count.
    static func statements(_ dialect: Dialect) -> [String] { migrations.flatMap { $0.statements(dialect) } }

    /// The meta keys, shared by both stores.
    enum Meta {
        static let publishedThrough = "published_through"
        static let checkpointPosition = "checkpoint_pos"
        static let checkpointSeq = "checkpoint_seq"
        static let checkpointWatermark = "checkpoint_watermark"
        /// `<kind>_pos`, `_seq`, `_watermark`, `_created_at` of a retained checkpoint.
        static func retained(_ kind: RetainedCheckpoint, _ field: RetainedField) -> String { "\(kind.rawValue)_\(field.rawValue)" }
    }

    enum RetainedField: String, CaseIterable { case pos, seq, watermark, createdAt = "created_at" }

    /// Entries handed to a reader per query: a read never stays open while entries are
    /// processed, so that processing may read the journal again (to rebuild a handler).
    static let pageSize = 2_000

    /// Text for a TEXT column: a NUL becomes U+FFFD (PostgreSQL refuses NUL in text; SQLite's
    /// C API would cut the text there). Exact bytes live in `event_key`, `topic` and `body`.
    static func text(_ s: String) -> String {
        s.utf8.contains(0) ? s.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : s
    }
    static func text(_ s: String?) -> String? { s.map(text) }
}

extension JournalSpec.Dialect {
    var blob: String { self == .sqlite ? "BLOB" : "BYTEA" }
    var bigInt: String { self == .sqlite ? "INTEGER" : "BIGINT" }
    var smallInt: String { self == .sqlite ? "INTEGER" : "SMALLINT" }
    /// The journal's position: SQLite's rowid (assigned on insert); PostgreSQL's is assigned by the writer.
    var key: String { self == .sqlite ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY" }
    /// A table stored in its primary key's order (SQLite; PostgreSQL has no such clause).
    var withoutRowID: String { self == .sqlite ? " WITHOUT ROWID" : "" }
}
