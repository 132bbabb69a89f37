import Foundation
import GRDB
import PlanWatchModel

/// The journal in a SQLite file (WAL), for one host.
final class SQLiteJournal: Journal {
    enum Synchronous: String, Sendable, Codable { case full = "FULL", normal = "NORMAL" }

    private let pool: DatabasePool
    let path: String
    var location: String { path }

    init(path: String, synchronous: Synchronous = .full) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
        }
        config.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: config)
        self.path = path
        try JournalSchema.migrator.migrate(pool)
    }

    /// Appends entries in one transaction and records how far outputs have been published.
    /// Returns the entries with their positions.
    func append(_ entries: [JournalEntry], publishedThrough: Int64) throws -> [JournalEntry] {
        try pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO journal(kind, received_at, source, event_id, type, topic, body, reason, detail)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var stored = entries
            for i in stored.indices {
                let e = stored[i]
                try insert.execute(arguments: [
                    e.kind.rawValue, e.receivedAt.epochMilliseconds, e.source, e.eventId, e.type,
                    Data(e.topic), Data(e.body), e.reason?.rawValue, e.detail,
                ])
                stored[i].position = db.lastInsertedRowID
            }
            try Self.setMeta(db, "published_through", publishedThrough)
            return stored
        }
    }

    /// Records how far outputs have been published, outside a batch (at shutdown).
    func setPublishedThrough(_ position: Int64) throws {
        try pool.write { db in try Self.setMeta(db, "published_through", position) }
    }

    var publishedThrough: Int64 {
        get throws { try pool.read { db in try Self.meta(db, "published_through") } }
    }

    /// Entries after `position`, in order, handed to `body` one at a time.
    func forEachEntry(after position: Int64, _ body: (JournalEntry) throws -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT pos, kind, received_at, source, event_id, type, topic, body, reason, detail
                    FROM journal WHERE pos > ? ORDER BY pos
                    """, arguments: [position])
            while let row = try rows.next() {
                try body(Self.entry(row))
            }
        }
    }

    /// Every `(source, id)` of an accepted event still in the journal.
    func forEachEventKey(_ body: (String, String) -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT source, event_id FROM journal WHERE kind = 0")
            while let row = try rows.next() {
                body(row[0], row[1])
            }
        }
    }

    func loadCheckpoint() throws -> JournalCheckpoint {
        try pool.read { db in
            var states: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT handler, state FROM checkpoint") {
                states[row[0]] = row[1]
            }
            return JournalCheckpoint(
                position: try Self.meta(db, "checkpoint_pos"), seq: try Self.meta(db, "checkpoint_seq"),
                watermark: try Self.meta(db, "checkpoint_watermark"), states: states)
        }
    }

    func saveCheckpoint(_ checkpoint: JournalCheckpoint) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM checkpoint")
            for (handler, state) in checkpoint.states.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT INTO checkpoint(handler, state) VALUES (?, ?)", arguments: [handler, state])
            }
            try Self.setMeta(db, "checkpoint_pos", checkpoint.position)
            try Self.setMeta(db, "checkpoint_seq", checkpoint.seq)
            try Self.setMeta(db, "checkpoint_watermark", checkpoint.watermark)
        }
    }

    func loadRetained(_ kind: RetainedCheckpoint) throws -> (checkpoint: JournalCheckpoint, createdAt: Int64)? {
        try pool.read { db in
            guard try Self.meta(db, "\(kind.rawValue)_created_at") > 0 else { return nil }
            var states: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT handler, state FROM retained_checkpoint WHERE kind = ?", arguments: [kind.rawValue]) {
                states[row[0]] = row[1]
            }
            let cp = JournalCheckpoint(
                position: try Self.meta(db, "\(kind.rawValue)_pos"), seq: try Self.meta(db, "\(kind.rawValue)_seq"),
                watermark: try Self.meta(db, "\(kind.rawValue)_watermark"), states: states)
            return (cp, try Self.meta(db, "\(kind.rawValue)_created_at"))
        }
    }

    func saveCandidate(_ checkpoint: JournalCheckpoint, createdAt: Int64) throws {
        try pool.write { db in try Self.store(db, checkpoint, as: .candidate, createdAt: createdAt) }
    }

    /// Makes the candidate the base and deletes every journal entry up to it, in one transaction.
    /// Returns how many entries were deleted.
    func compactToCandidate() throws -> Int {
        try pool.write { db in
            guard try Self.meta(db, "candidate_created_at") > 0 else { return 0 }
            let position = try Self.meta(db, "candidate_pos")
            try db.execute(sql: "DELETE FROM retained_checkpoint WHERE kind = 'base'")
            try db.execute(sql: "UPDATE retained_checkpoint SET kind = 'base' WHERE kind = 'candidate'")
            for key in ["pos", "seq", "watermark", "created_at"] {
                try Self.setMeta(db, "base_\(key)", try Self.meta(db, "candidate_\(key)"))
                try Self.setMeta(db, "candidate_\(key)", 0)
            }
            try db.execute(sql: "DELETE FROM journal WHERE pos <= ?", arguments: [position])
            return db.changesCount
        }
    }

    private static func store(_ db: Database, _ cp: JournalCheckpoint, as kind: RetainedCheckpoint, createdAt: Int64) throws {
        try db.execute(sql: "DELETE FROM retained_checkpoint WHERE kind = ?", arguments: [kind.rawValue])
        for (handler, state) in cp.states.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql: "INSERT INTO retained_checkpoint(kind, handler, state) VALUES (?, ?, ?)", arguments: [kind.rawValue, handler, state])
        }
        try setMeta(db, "\(kind.rawValue)_pos", cp.position)
        try setMeta(db, "\(kind.rawValue)_seq", cp.seq)
        try setMeta(db, "\(kind.rawValue)_watermark", cp.watermark)
        try setMeta(db, "\(kind.rawValue)_created_at", createdAt)
    }

    var entryCount: Int {
        get throws { try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM journal") ?? 0 } }
    }

    func appendHistory(_ changes: [AlertChange]) throws {
        guard !changes.isEmpty else { return }
        try pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO alert_history(seq, fingerprint, body) VALUES (?, ?, ?)")
            for c in changes { try insert.execute(arguments: [c.seq, c.fingerprint, Data(JSONWriter.bytes(c.json))]) }
        }
    }

    func history(fingerprint: String) throws -> [AlertChange] {
        try pool.read { db in
            try Data.fetchAll(db, sql: "SELECT body FROM alert_history WHERE fingerprint = ? ORDER BY seq", arguments: [fingerprint])
                .compactMap { try? JSONDecoder().decode(AlertChange.self, from: $0) }
        }
    }

    func close() {
        try? pool.close()
    }

    private static func meta(_ db: Database, _ key: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) ?? 0
    }

    private static func setMeta(_ db: Database, _ key: String, _ value: Int64) throws {
        try db.execute(
            sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }

    private static func entry(_ row: Row) -> JournalEntry {
        let topic: Data = row[6]
        let body: Data = row[7]
        let reason: String? = row[8]
        return JournalEntry(
            position: row[0], kind: JournalEntry.Kind(rawValue: row[1]) ?? .tick,
            receivedAt: Timestamp(epochMilliseconds: row[2]), source: row[3], eventId: row[4], type: row[5],
            topic: [UInt8](topic), body: [UInt8](body), reason: reason.flatMap(RejectionReason.init(rawValue:)),
            detail: row[9])
    }
}
