import Foundation
import GRDB
import GRDBSQLite
import HandlerKit
import PlanWatchModel

/// The journal in a SQLite file (WAL), for one host, with its checkpoints in a second file
/// beside it (``checkpointsPath(_:)``). SQLite has one writer per file, and a checkpoint of a
/// million subjects writes for seconds: in one file, every append waited for it (a batch of 20
/// entries took 12.6 s). The journal's file holds the entries, the published position, the
/// quarantine and the alert history; the checkpoints' file the live and retained checkpoints,
/// their subjects and their meta keys. Both files have the whole schema (``JournalSpec``).
final class SQLiteJournal: Journal {
    enum Synchronous: String, Sendable, Codable { case full = "FULL", normal = "NORMAL" }

    private let pool: DatabasePool
    private let checkpoints: DatabasePool
    let path: String
    var location: String { path }
    /// Checkpoints are written to a file of their own.
    var checkpointsBlockAppends: Bool { false }

    /// Where a journal's checkpoints are: `journal.sqlite` → `journal.sqlite.checkpoints`.
    static func checkpointsPath(_ path: String) -> String { path + ".checkpoints" }

    /// A reader (replay, inspection) writes nothing to the checkpoints: on a journal its daemon
    /// has not moved to two files yet, it reads them where they are.
    init(path: String, synchronous: Synchronous = .full, role: JournalStore.Role = .writer) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
        }
        config.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: config)
        self.path = path
        try Self.migrator.migrate(pool)
        let checkpointsPath = Self.checkpointsPath(path)
        if role == .reader && !FileManager.default.fileExists(atPath: checkpointsPath) {
            checkpoints = pool
        } else {
            checkpoints = try DatabasePool(path: checkpointsPath, configuration: config)
        }
        if role == .writer {
            // The checkpoint writer's page cache: a checkpoint rewrites hundreds of thousands of
            // subject rows in one transaction, and SQLite's default 2 MB spills dirty pages to
            // the WAL and reads them back again and again. Pages are taken only as they are used.
            try checkpoints.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)") }
            try Self.migrator.migrate(checkpoints)
            try moveCheckpointsOutOfTheJournal()
        }
        try checkContinuity(writer: role == .writer)
    }

    /// The writer connection's page cache, in KiB.
    static let writerCacheKiB = 64 * 1024

    /// ``JournalSpec``'s migrations, by name.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in JournalSpec.migrations {
            migrator.registerMigration(migration.name) { db in
                for statement in migration.statements(.sqlite) { try db.execute(sql: statement) }
            }
        }
        return migrator
    }

    /// Appends entries in one transaction and records how far outputs have been published.
    /// Returns the entries with their positions.
    func append(_ entries: [JournalEntry], publishedThrough: Int64) throws -> [JournalEntry] {
        try pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO journal(kind, received_at, source, event_id, type, topic, body, reason, detail, event_key)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var stored = entries
            for i in stored.indices {
                try Self.insert(stored[i], with: insert, in: db)
                stored[i].position = db.lastInsertedRowID
            }
            try Self.setMeta(db, JournalSpec.Meta.publishedThrough, publishedThrough)
            return stored
        }
    }

    /// One entry's row, its columns bound on SQLite's own statement. Through GRDB's
    /// `execute(arguments:)` every value was boxed in an array of existentials and both blobs
    /// copied into `Data`: most of the insert's 10 % of the pipeline thread in fire-and-forget
    /// (BENCHMARKS.md, "2026-12-07, evening"). The blobs are bound in place for the step, and
    /// every binding is cleared before their bytes go. Runs inside the batch's transaction, so
    /// GRDB's bookkeeping around a statement (observers, the transaction's state) has nothing to
    /// add: the commit and a rollback after a failed step are still GRDB's. GRDB's transaction
    /// observers do not see these rows; nothing observes the journal.
    private static func insert(_ e: JournalEntry, with statement: Statement, in db: Database) throws {
        let handle = statement.sqliteStatement
        // The result of the last step, already taken in: not a failure of its own.
        defer { _ = sqlite3_reset(handle) }
        var bind = Binder(handle)
        bind.int(1, e.kind.rawValue)
        bind.int(2, e.receivedAt.epochMilliseconds)
        bind.text(3, JournalSpec.text(e.key?.source))
        bind.text(4, JournalSpec.text(e.key?.id))
        bind.text(5, e.type)
        bind.text(8, e.reason?.rawValue)
        bind.text(9, JournalSpec.text(e.detail))
        let outcome = e.topic.withUnsafeBytes { topic in
            e.body.withUnsafeBytes { body in
                (e.key?.bytes ?? []).withUnsafeBytes { key in
                    bind.blob(6, topic)
                    bind.blob(7, body)
                    if e.key != nil { bind.blob(10, key) }
                    return bind.step()
                }
            }
        }
        try outcome.check(statement, in: db)
    }

    /// One subject's row of a checkpoint — `value` nil deletes it —, bound in place as a
    /// journal entry is (``insert(_:with:in:)``): a checkpoint writes up to a million of them,
    /// and through `execute(arguments:)` each cost a boxed array and two copies into `Data`.
    private static func write(
        handler: String, _ row: SubjectRow, upsert: Statement, delete: Statement, in db: Database
    ) throws {
        let statement = row.value == nil ? delete : upsert
        let handle = statement.sqliteStatement
        defer { _ = sqlite3_reset(handle) }
        var bind = Binder(handle)
        bind.text(1, handler)
        bind.text(2, row.path)
        var key = row.key
        let outcome = key.withUTF8 { key in
            (row.value ?? Data()).withUnsafeBytes { value in
                bind.blob(3, UnsafeRawBufferPointer(key))
                if row.value != nil { bind.blob(4, value) }
                return bind.step()
            }
        }
        try outcome.check(statement, in: db)
    }

    /// Binds values to a statement's parameters and keeps the first failure (a value too large
    /// for SQLite), to report instead of stepping.
    private struct Binder {
        let handle: OpaquePointer
        var failure: Int32?

        init(_ handle: OpaquePointer) { self.handle = handle }

        private mutating func check(_ code: Int32) {
            if code != SQLITE_OK, failure == nil { failure = code }
        }

        mutating func int(_ index: Int32, _ value: Int64) { check(sqlite3_bind_int64(handle, index, value)) }

        /// NULL for nil; copied by SQLite (strings are short).
        mutating func text(_ index: Int32, _ value: String?) {
            guard let value else { return check(sqlite3_bind_null(handle, index)) }
            check(value.withCString { sqlite3_bind_text(handle, index, $0, -1, Self.transient) })
        }

        /// Bound in place: the bytes must outlive the step. Empty is a blob of no bytes, not NULL.
        mutating func blob(_ index: Int32, _ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return check(sqlite3_bind_zeroblob(handle, index, 0)) }
            guard let count = Int32(exactly: bytes.count) else { return check(SQLITE_TOOBIG) }
            check(sqlite3_bind_blob(handle, index, base, count, nil))
        }

        /// Steps the statement once with what was bound — unless a value was refused — and
        /// clears the bindings: called while the bytes bound in place are still there.
        mutating func step() -> Outcome {
            defer { _ = sqlite3_clear_bindings(handle) }
            return failure.map { Outcome(code: $0, stepped: false) } ?? Outcome(code: sqlite3_step(handle), stepped: true)
        }

        struct Outcome {
            let code: Int32
            let stepped: Bool

            func check(_ statement: Statement, in db: Database) throws {
                guard code == SQLITE_DONE else {
                    // A value SQLite would not take was never stepped: the connection's message is not its.
                    let message = stepped ? sqlite3_errmsg(db.sqliteConnection) : sqlite3_errstr(code)
                    throw DatabaseError(
                        resultCode: ResultCode(rawValue: code), message: message.map { String(cString: $0) }, sql: statement.sql)
                }
            }
        }

        /// SQLite's `SQLITE_TRANSIENT`: it copies the value before the call returns.
        private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
    }

    /// Records how far outputs have been published, outside a batch (at shutdown).
    func setPublishedThrough(_ position: Int64) throws {
        try pool.write { db in try Self.setMeta(db, JournalSpec.Meta.publishedThrough, position) }
    }

    var publishedThrough: Int64 {
        get throws { try pool.read { db in try Self.meta(db, JournalSpec.Meta.publishedThrough) } }
    }

    func forEachEntry(after: Int64, before: Int64, _ body: (JournalEntry) throws -> Void) throws {
        var from = after
        while true {
            let page = try pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT pos, kind, received_at, source, event_id, type, topic, body, reason, detail, event_key
                        FROM journal WHERE pos > ? AND pos < ? ORDER BY pos LIMIT ?
                        """, arguments: [from, before, JournalSpec.pageSize]
                ).map(Self.entry)
            }
            for entry in page { try body(entry) }
            guard page.count == JournalSpec.pageSize, let last = page.last else { return }
            from = last.position
        }
    }

    func forEachEventKey(_ body: (Int64, EventKey) -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT pos, source, event_id, event_key FROM journal WHERE kind = 0 ORDER BY pos")
            while let row = try rows.next() {
                // Rows written before v4 have no event_key: their text columns are exact.
                let stored: Data? = row[3]
                if let key = stored.flatMap({ EventKey(bytes: [UInt8]($0)) }) {
                    body(row[0], key)
                } else {
                    body(row[0], EventKey(source: row[1], id: row[2]))
                }
            }
        }
    }

    func quarantined() throws -> [Quarantined] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT pos, handler, reason, created_at FROM quarantine ORDER BY pos, handler").map {
                Quarantined(position: $0[0], handler: $0[1], reason: $0[2], createdAt: $0[3])
            }
        }
    }

    func quarantine(_ q: Quarantined) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO quarantine(pos, handler, reason, created_at) VALUES (?, ?, ?, ?)",
                arguments: [q.position, q.handler, q.reason, q.createdAt])
        }
    }

    func loadCheckpoint(only handler: String?) throws -> JournalCheckpoint {
        try checkpoints.read { db in
            var states: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT handler, state FROM checkpoint WHERE ? IS NULL OR handler = ?", arguments: [handler, handler]) {
                states[row[0]] = row[1]
            }
            var cp = JournalCheckpoint(
                position: try Self.meta(db, JournalSpec.Meta.checkpointPosition), seq: try Self.meta(db, JournalSpec.Meta.checkpointSeq),
                watermark: try Self.meta(db, JournalSpec.Meta.checkpointWatermark), states: states, origin: .live)
            cp.subjects = try Self.subjects(db, table: "checkpoint_subject", kind: nil, only: handler)
            return cp
        }
    }

    func saveCheckpoint(_ checkpoint: JournalCheckpoint) throws {
        try checkpoints.write { db in
            try db.execute(sql: "DELETE FROM checkpoint")
            for (handler, state) in checkpoint.states.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT INTO checkpoint(handler, state) VALUES (?, ?)", arguments: [handler, state])
            }
            let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO checkpoint_subject(handler, path, key, value) VALUES (?, ?, ?, ?)")
            let delete = try db.cachedStatement(sql: "DELETE FROM checkpoint_subject WHERE handler = ? AND path = ? AND key = ?")
            for (handler, subjects) in checkpoint.subjects.sorted(by: { $0.key < $1.key }) {
                if subjects.full { try db.execute(sql: "DELETE FROM checkpoint_subject WHERE handler = ?", arguments: [handler]) }
                // In key order: each B-tree page is written once, not once per row that lands on it.
                try subjects.forEachChunk { chunk in
                    for row in chunk where row.value != nil || !subjects.full {
                        try Self.write(handler: handler, row, upsert: upsert, delete: delete, in: db)
                    }
                }
            }
            try Self.setMeta(db, JournalSpec.Meta.checkpointPosition, checkpoint.position)
            try Self.setMeta(db, JournalSpec.Meta.checkpointSeq, checkpoint.seq)
            try Self.setMeta(db, JournalSpec.Meta.checkpointWatermark, checkpoint.watermark)
        }
    }

    func loadRetained(_ kind: RetainedCheckpoint, only handler: String?) throws -> (checkpoint: JournalCheckpoint, createdAt: Int64)? {
        try checkpoints.read { db in
            guard try Self.meta(db, JournalSpec.Meta.retained(kind, .createdAt)) > 0 else { return nil }
            var states: [String: Data] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT handler, state FROM retained_checkpoint WHERE kind = ? AND (? IS NULL OR handler = ?)",
                arguments: [kind.rawValue, handler, handler])
            {
                states[row[0]] = row[1]
            }
            var cp = JournalCheckpoint(
                position: try Self.meta(db, JournalSpec.Meta.retained(kind, .pos)), seq: try Self.meta(db, JournalSpec.Meta.retained(kind, .seq)),
                watermark: try Self.meta(db, JournalSpec.Meta.retained(kind, .watermark)), states: states, origin: .retained(kind))
            cp.subjects = try Self.subjects(db, table: "retained_subject", kind: kind, only: handler)
            return (cp, try Self.meta(db, JournalSpec.Meta.retained(kind, .createdAt)))
        }
    }

    func retained(_ kind: RetainedCheckpoint) throws -> (position: Int64, createdAt: Int64)? {
        try checkpoints.read { db in
            let createdAt = try Self.meta(db, JournalSpec.Meta.retained(kind, .createdAt))
            return createdAt > 0 ? (try Self.meta(db, JournalSpec.Meta.retained(kind, .pos)), createdAt) : nil
        }
    }

    func saveCandidate(_ checkpoint: JournalCheckpoint, createdAt: Int64) throws {
        try checkpoints.write { db in
            try Self.store(db, checkpoint, as: .candidate, createdAt: createdAt)
            try db.execute(sql: "DELETE FROM retained_subject WHERE kind = 'candidate'")
            try db.execute(
                sql: "INSERT INTO retained_subject(kind, handler, path, key, value) SELECT 'candidate', handler, path, key, value FROM checkpoint_subject")
        }
    }

    /// The subjects of a checkpoint (live, or retained of `kind`), by handler; with `only`, that
    /// handler's, read by the primary key (a rebuild must not scan another handler's million rows).
    private static func subjects(_ db: Database, table: String, kind: RetainedCheckpoint?, only handler: String?) throws
        -> [String: HandlerSubjects]
    {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let kind {
            conditions.append("kind = ?")
            arguments += [kind.rawValue]
        }
        if let handler {
            conditions.append("handler = ?")
            arguments += [handler]
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        var result: [String: HandlerSubjects] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT handler, path, key, value FROM \(table)\(filter)", arguments: arguments)
        while let row = try rows.next() {
            let handler: String = row[0]
            let key: Data = row[2]
            result[handler, default: HandlerSubjects(full: true, rows: [])].rows.append(
                SubjectRow(path: row[1], key: String(decoding: key, as: UTF8.self), value: row[3]))
        }
        return result
    }

    /// Makes the candidate the base, then deletes every journal entry up to it. Returns how
    /// many entries were deleted. The base moves first: a stop in between leaves entries the
    /// base no longer needs, which the next compaction deletes.
    func compactToCandidate() throws -> Int {
        let base = try checkpoints.write { db -> Int64? in
            guard try Self.meta(db, JournalSpec.Meta.retained(.candidate, .createdAt)) > 0 else { return nil }
            let position = try Self.meta(db, JournalSpec.Meta.retained(.candidate, .pos))
            try db.execute(sql: "DELETE FROM retained_checkpoint WHERE kind = 'base'")
            try db.execute(sql: "UPDATE retained_checkpoint SET kind = 'base' WHERE kind = 'candidate'")
            try db.execute(sql: "DELETE FROM retained_subject WHERE kind = 'base'")
            try db.execute(sql: "UPDATE retained_subject SET kind = 'base' WHERE kind = 'candidate'")
            for field in JournalSpec.RetainedField.allCases {
                try Self.setMeta(db, JournalSpec.Meta.retained(.base, field), try Self.meta(db, JournalSpec.Meta.retained(.candidate, field)))
                try Self.setMeta(db, JournalSpec.Meta.retained(.candidate, field), 0)
            }
            return position
        }
        guard let base else { return 0 }
        return try pool.write { db in
            try db.execute(sql: "DELETE FROM journal WHERE pos <= ?", arguments: [base])
            return db.changesCount
        }
    }

    /// The tables and meta keys that live in the checkpoints' file.
    private static let checkpointTables = ["checkpoint", "checkpoint_subject", "retained_checkpoint", "retained_subject"]
    private static let checkpointMetaKeys =
        [JournalSpec.Meta.checkpointPosition, JournalSpec.Meta.checkpointSeq, JournalSpec.Meta.checkpointWatermark]
        + [RetainedCheckpoint.candidate, .base].flatMap { kind in JournalSpec.RetainedField.allCases.map { JournalSpec.Meta.retained(kind, $0) } }

    /// A journal written before checkpoints had a file of their own keeps them in its own
    /// file: they are copied to the checkpoints' file (in one transaction, while that file holds
    /// none), then removed from the journal's. Both holding the same checkpoints is a copy whose
    /// removal did not happen yet; both holding different ones (an older `planwatchd` wrote to
    /// the journal after a newer one had moved them) is refused, naming both files.
    private func moveCheckpointsOutOfTheJournal() throws {
        let keys = Self.checkpointMetaKeys
        let inList = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        func holdsAny(_ db: Database, _ schema: String) throws -> Bool {
            try Self.checkpointTables.contains { try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(schema).\($0))") ?? false }
                || (try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM \(schema).meta WHERE key IN (\(inList)))", arguments: StatementArguments(keys)) ?? false)
        }
        func positions(_ db: Database, _ schema: String) throws -> [String: Int64] {
            var values: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM \(schema).meta WHERE key IN (\(inList))", arguments: StatementArguments(keys)) {
                values[row[0]] = row[1]
            }
            return values.filter { $0.value != 0 }
        }
        guard try pool.read({ try holdsAny($0, "main") }) else { return }
        let checkpointsPath = Self.checkpointsPath(path)
        try checkpoints.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS old", arguments: [path])
            defer { try? db.execute(sql: "DETACH DATABASE old") }
            try db.inTransaction(.immediate) {
                if try holdsAny(db, "main") {
                    guard try positions(db, "main") == positions(db, "old") else {
                        throw JournalError(
                            description: """
                                \(path) and \(checkpointsPath) both hold checkpoints, and they differ: an older planwatchd \
                                wrote to this journal after a newer one had moved its checkpoints. If the older one ran last, \
                                move \(checkpointsPath) away: the journal's own checkpoints are then moved into a new one
                                """)
                    }
                    return .commit
                }
                for table in Self.checkpointTables { try db.execute(sql: "INSERT INTO main.\(table) SELECT * FROM old.\(table)") }
                try db.execute(
                    sql: "INSERT INTO main.meta(key, value) SELECT key, value FROM old.meta WHERE key IN (\(inList))",
                    arguments: StatementArguments(keys))
                return .commit
            }
        }
        try pool.write { db in
            for table in Self.checkpointTables { try db.execute(sql: "DELETE FROM \(table)") }
            try db.execute(sql: "DELETE FROM meta WHERE key IN (\(inList))", arguments: StatementArguments(keys))
        }
    }

    /// The two files must belong together. A compacted journal without its checkpoints cannot
    /// be replayed (its start is gone): refused, naming the file. A journal that ends before
    /// its checkpoint (its last commits lost with `synchronous: normal` and a power cut, the
    /// checkpoints' not) goes on after the checkpoint's position, so that no position is used
    /// twice.
    private func checkContinuity(writer: Bool) throws {
        // Each pair read in the order the daemon writes them, so that one running meanwhile
        // cannot make a sound pair look broken.
        let first = try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MIN(pos) FROM journal") }
        let reach = try checkpoints.read { db in
            max(try Self.meta(db, JournalSpec.Meta.checkpointPosition), try Self.meta(db, JournalSpec.Meta.retained(.base, .pos)))
        }
        if let first, first > 1, reach < first - 1 {
            throw JournalError(
                description: """
                    the journal \(path) was compacted (it starts at entry \(first)) but \(Self.checkpointsPath(path)) has no \
                    checkpoint from which to read it: restore that file with the journal (back up and restore both)
                    """)
        }
        guard writer else { return }
        let live = try checkpoints.read { db in try Self.meta(db, JournalSpec.Meta.checkpointPosition) }
        let last = try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(pos) FROM journal") } ?? 0
        if live > last {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT OR IGNORE INTO journal(pos, kind, received_at, topic, body) VALUES (?, ?, ?, x'', x'')",
                    arguments: [live, JournalEntry.Kind.tick.rawValue, Int64(Date().timeIntervalSince1970 * 1000)])
            }
        }
    }

    private static func store(_ db: Database, _ cp: JournalCheckpoint, as kind: RetainedCheckpoint, createdAt: Int64) throws {
        try db.execute(sql: "DELETE FROM retained_checkpoint WHERE kind = ?", arguments: [kind.rawValue])
        for (handler, state) in cp.states.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql: "INSERT INTO retained_checkpoint(kind, handler, state) VALUES (?, ?, ?)", arguments: [kind.rawValue, handler, state])
        }
        try setMeta(db, JournalSpec.Meta.retained(kind, .pos), cp.position)
        try setMeta(db, JournalSpec.Meta.retained(kind, .seq), cp.seq)
        try setMeta(db, JournalSpec.Meta.retained(kind, .watermark), cp.watermark)
        try setMeta(db, JournalSpec.Meta.retained(kind, .createdAt), createdAt)
    }

    var entryCount: Int {
        get throws { try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM journal") ?? 0 } }
    }

    func appendHistory(_ changes: [AlertChange]) throws {
        guard !changes.isEmpty else { return }
        try pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO alert_history(seq, fingerprint, body) VALUES (?, ?, ?)")
            for c in changes { try insert.execute(arguments: [c.seq, JournalSpec.text(c.fingerprint), Data(c.body)]) }
        }
    }

    func history(fingerprint: String) throws -> [AlertChange] {
        try pool.read { db in
            try Data.fetchAll(
                db, sql: "SELECT body FROM alert_history WHERE fingerprint = ? ORDER BY seq", arguments: [JournalSpec.text(fingerprint)])
                .compactMap { try? JSONDecoder().decode(AlertChange.self, from: $0) }
        }
    }

    func close() {
        try? pool.close()
        if checkpoints !== pool { try? checkpoints.close() }
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
        let storedKey: Data? = row[10]
        let source: String? = row[3]
        let id: String? = row[4]
        let key = storedKey.flatMap { EventKey(bytes: [UInt8]($0)) } ?? source.flatMap { s in id.map { EventKey(source: s, id: $0) } }
        return JournalEntry(
            position: row[0], kind: JournalEntry.Kind(rawValue: row[1]) ?? .tick,
            receivedAt: Timestamp(epochMilliseconds: row[2]), key: key, type: row[5],
            topic: [UInt8](topic), body: [UInt8](body), reason: reason.flatMap(RejectionReason.init(rawValue:)),
            detail: row[9])
    }
}
