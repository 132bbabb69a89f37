import Foundation
import Logging
import PlanWatchModel
import PostgresNIO
import Synchronization

/// The journal in PostgreSQL, for state that must outlive a host.
///
/// One writer at a time: the writer holds a session advisory lock for as long as it runs. A
/// second daemon pointed at the same database waits for the lock as a standby and takes over
/// (replaying from the last checkpoint) as soon as the first one's connection is gone. A
/// writer whose connection breaks reconnects only if it gets the lock back; if another
/// daemon took over meanwhile it writes nothing more (every write throws), so two daemons
/// never write the same journal.
///
/// Positions are assigned by the writer (the last one is read at start), in order, without
/// gaps; dedupe stays in memory as with SQLite (rebuilt from the journal at start).
final class PostgresJournal: Journal, Sendable {
    /// The lock every writer of a PlanWatch journal takes (an arbitrary, fixed number).
    static let writerLock: Int64 = 0x706c_616e_7761_7463
    static let pageSize = 5_000

    let location: String
    private let configuration: PostgresConnection.Configuration
    private let role: JournalStore.Role
    private let logger: Logger
    private struct State {
        var connection: PostgresConnection?
        var lastPosition: Int64 = 0
        var fenced = false
    }
    private let state = Mutex(State())
    /// One operation at a time: the pipeline and the checkpoint writer share the connection,
    /// and a transaction's statements must not interleave with another's.
    private let exclusive = NSLock()

    private func serial<T>(_ body: () throws -> T) rethrows -> T {
        exclusive.lock()
        defer { exclusive.unlock() }
        return try body()
    }

    init(url: String, role: JournalStore.Role, onWait: @escaping @Sendable (String) -> Void) throws {
        (configuration, location) = try Self.configuration(from: url)
        self.role = role
        var logger = Logger(label: "planwatch.postgres")
        logger.logLevel = .error
        self.logger = logger
        let connection = try connect()
        state.withLock { $0.connection = connection }
        switch role {
        case .writer:
            var announced = false
            while try !tryLock(connection) {
                if !announced {
                    onWait("another planwatchd holds the journal at \(location); standing by until it is gone")
                    announced = true
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
            try migrate(connection)
            let last = try Self.int(
                try run(
                    """
                    SELECT GREATEST(COALESCE((SELECT MAX(pos) FROM journal), 0),
                                    COALESCE((SELECT MAX(value) FROM meta WHERE key IN ('checkpoint_pos', 'base_pos', 'candidate_pos')), 0))
                    """, on: connection))
            state.withLock { $0.lastPosition = last }
        case .reader:
            let exists = try Self.int(try run("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'planwatch_schema'", on: connection))
            guard exists > 0 else {
                connection.close().whenComplete { _ in }
                throw JournalError(description: "no journal at \(location): the database has no PlanWatch tables")
            }
        }
    }

    // MARK: Connection

    /// The connection configuration of a `postgres://user:password@host:port/database` URL
    /// (`?sslmode=disable` is the only mode: PlanWatch reaches PostgreSQL on a trusted
    /// network or loopback), and the URL without its password, for logs.
    static func configuration(from url: String) throws -> (PostgresConnection.Configuration, String) {
        guard let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty else {
            throw JournalError(description: "'\(url)' is not a PostgreSQL URL: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        for item in parts.queryItems ?? [] {
            guard item.name == "sslmode", item.value == "disable" else {
                throw JournalError(
                    description: "PostgreSQL URL option '\(item.name)=\(item.value ?? "")' is not supported (only sslmode=disable)")
            }
        }
        let user = parts.user ?? "postgres"
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        let config = PostgresConnection.Configuration(
            host: host, port: parts.port ?? 5432, username: user, password: parts.password,
            database: database.isEmpty ? user : database, tls: .disable)
        var shown = parts
        shown.password = nil
        return (config, shown.string ?? "postgres://\(host)")
    }

    private func connect() throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: logger
            ).wait()
        } catch {
            throw JournalError(description: "cannot connect to PostgreSQL at \(location): \(String(reflecting: error))")
        }
    }

    private func tryLock(_ connection: PostgresConnection) throws -> Bool {
        let rows = try run("SELECT pg_try_advisory_lock(\(Self.writerLock))", on: connection).rows
        return try rows.first?.decode(Bool.self) ?? false
    }

    /// The live connection; a writer whose connection broke reconnects only with the lock.
    private func live() throws -> PostgresConnection {
        try state.withLock { s in
            if s.fenced { throw JournalError(description: "another planwatchd took over the journal at \(location); not writing") }
            if let c = s.connection, !c.isClosed { return c }
            let c = try connect()
            if role == .writer {
                guard try tryLock(c) else {
                    s.fenced = true
                    c.close().whenComplete { _ in }
                    throw JournalError(description: "lost the journal lock at \(location) to another planwatchd; not writing")
                }
            }
            s.connection = c
            return c
        }
    }

    @discardableResult
    private func run(_ query: PostgresQuery, on connection: PostgresConnection) throws -> PostgresQueryResult {
        do {
            return try connection.query(query, logger: logger).wait()
        } catch {
            throw JournalError(description: "PostgreSQL at \(location): \(String(reflecting: error))")
        }
    }

    @discardableResult
    private func run(_ query: PostgresQuery) throws -> PostgresQueryResult { try run(query, on: try live()) }

    /// Runs `body` in one transaction, rolled back if it throws.
    private func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let c = try live()
        try run("BEGIN", on: c)
        do {
            let result = try body(c)
            try run("COMMIT", on: c)
            return result
        } catch {
            _ = try? run("ROLLBACK", on: c)
            throw error
        }
    }

    private static func int(_ result: PostgresQueryResult) throws -> Int64 {
        try result.rows.first?.decode(Int64?.self) ?? 0
    }

    // MARK: Schema

    /// Migrations in order; one never changes once shipped: add a new one.
    private static let migrations: [String] = [
        """
        CREATE TABLE journal(
            pos BIGINT PRIMARY KEY, kind SMALLINT NOT NULL, received_at BIGINT NOT NULL,
            source TEXT, event_id TEXT, type TEXT, topic BYTEA NOT NULL, body BYTEA NOT NULL, reason TEXT, detail TEXT);
        """,
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "CREATE TABLE checkpoint(handler TEXT PRIMARY KEY, state BYTEA NOT NULL)",
        "CREATE TABLE retained_checkpoint(kind TEXT NOT NULL, handler TEXT NOT NULL, state BYTEA NOT NULL, PRIMARY KEY(kind, handler))",
        "CREATE TABLE alert_history(seq BIGINT PRIMARY KEY, fingerprint TEXT NOT NULL, body BYTEA NOT NULL)",
        "CREATE INDEX alert_history_by_fingerprint ON alert_history(fingerprint, seq)",
    ]

    private func migrate(_ c: PostgresConnection) throws {
        try run("CREATE TABLE IF NOT EXISTS planwatch_schema(version INTEGER NOT NULL)", on: c)
        let done = Int(try Self.int(try run("SELECT COALESCE(MAX(version), 0)::BIGINT FROM planwatch_schema", on: c)))
        for (i, sql) in Self.migrations.enumerated() where i + 1 > done {
            try run("BEGIN", on: c)
            try run(PostgresQuery(unsafeSQL: sql), on: c)
            try run("INSERT INTO planwatch_schema(version) VALUES (\(i + 1))", on: c)
            try run("COMMIT", on: c)
        }
    }

    // MARK: Journal

    func append(_ entries: [JournalEntry], publishedThrough: Int64) throws -> [JournalEntry] {
        try serial {
            let first = state.withLock { $0.lastPosition } + 1
            var stored = entries
            var positions: [Int64] = [], kinds: [Int64] = [], received: [Int64] = []
            var sources: [String] = [], ids: [String] = [], types: [String] = [], reasons: [String] = [], details: [String] = []
            var topics: [ByteBuffer] = [], bodies: [ByteBuffer] = []
            for i in stored.indices {
                stored[i].position = first + Int64(i)
                let e = stored[i]
                positions.append(e.position)
                kinds.append(e.kind.rawValue)
                received.append(e.receivedAt.epochMilliseconds)
                sources.append(e.source ?? "")
                ids.append(e.eventId ?? "")
                types.append(e.type ?? "")
                reasons.append(e.reason?.rawValue ?? "")
                details.append(e.detail ?? "")
                topics.append(ByteBuffer(bytes: e.topic))
                bodies.append(ByteBuffer(bytes: e.body))
            }
            try transaction { c in
                // One statement for the whole batch; '' stands for NULL (no id, source or reason is empty).
                try run(
                    """
                    INSERT INTO journal(pos, kind, received_at, source, event_id, type, topic, body, reason, detail)
                    SELECT p, k, r, NULLIF(s, ''), NULLIF(i, ''), NULLIF(t, ''), tp, b, NULLIF(re, ''), NULLIF(d, '')
                    FROM unnest(\(positions)::BIGINT[], \(kinds)::SMALLINT[], \(received)::BIGINT[], \(sources)::TEXT[],
                                \(ids)::TEXT[], \(types)::TEXT[], \(topics)::BYTEA[], \(bodies)::BYTEA[], \(reasons)::TEXT[],
                                \(details)::TEXT[]) AS u(p, k, r, s, i, t, tp, b, re, d)
                    """, on: c)
                try setMeta(c, "published_through", publishedThrough)
            }
            if let last = stored.last?.position { state.withLock { $0.lastPosition = last } }
            return stored
        }
    }

    func setPublishedThrough(_ position: Int64) throws {
        try serial {
            try setMeta(try live(), "published_through", position)
        }
    }

    var publishedThrough: Int64 { get throws { try serial { try meta(try live(), "published_through") } } }

    func forEachEntry(after position: Int64, _ body: (JournalEntry) throws -> Void) throws {
        try serial {
            var from = position
            while true {
                let rows = try run(
                    """
                    SELECT pos, kind, received_at, source, event_id, type, topic, body, reason, detail
                    FROM journal WHERE pos > \(from) ORDER BY pos LIMIT \(Self.pageSize)
                    """
                ).rows
                for row in rows {
                    let entry = try Self.entry(row)
                    try body(entry)
                    from = entry.position
                }
                if rows.count < Self.pageSize { return }
            }
        }
    }

    func forEachEventKey(_ body: (String, String) -> Void) throws {
        try serial {
            var from: Int64 = 0
            while true {
                let rows = try run(
                    "SELECT pos, source, event_id FROM journal WHERE kind = 0 AND pos > \(from) ORDER BY pos LIMIT \(Self.pageSize)"
                ).rows
                for row in rows {
                    let (pos, source, id) = try row.decode((Int64, String, String).self)
                    body(source, id)
                    from = pos
                }
                if rows.count < Self.pageSize { return }
            }
        }
    }

    var entryCount: Int { get throws { try serial { Int(try Self.int(try run("SELECT COUNT(*) FROM journal"))) } } }

    func loadCheckpoint() throws -> JournalCheckpoint {
        try serial {
            let c = try live()
            var states: [String: Data] = [:]
            for row in try run("SELECT handler, state FROM checkpoint", on: c).rows {
                let (handler, state) = try row.decode((String, ByteBuffer).self)
                states[handler] = Data(Array(buffer: state))
            }
            return JournalCheckpoint(
                position: try meta(c, "checkpoint_pos"), seq: try meta(c, "checkpoint_seq"),
                watermark: try meta(c, "checkpoint_watermark"), states: states)
        }
    }

    func saveCheckpoint(_ checkpoint: JournalCheckpoint) throws {
        try serial {
            try transaction { c in
                try run("DELETE FROM checkpoint", on: c)
                try insertStates(c, table: "checkpoint", kind: nil, checkpoint.states)
                try setMeta(c, "checkpoint_pos", checkpoint.position)
                try setMeta(c, "checkpoint_seq", checkpoint.seq)
                try setMeta(c, "checkpoint_watermark", checkpoint.watermark)
            }
        }
    }

    func loadRetained(_ kind: RetainedCheckpoint) throws -> (checkpoint: JournalCheckpoint, createdAt: Int64)? {
        try serial {
            let c = try live()
            let createdAt = try meta(c, "\(kind.rawValue)_created_at")
            guard createdAt > 0 else { return nil }
            var states: [String: Data] = [:]
            for row in try run("SELECT handler, state FROM retained_checkpoint WHERE kind = \(kind.rawValue)", on: c).rows {
                let (handler, state) = try row.decode((String, ByteBuffer).self)
                states[handler] = Data(Array(buffer: state))
            }
            let cp = JournalCheckpoint(
                position: try meta(c, "\(kind.rawValue)_pos"), seq: try meta(c, "\(kind.rawValue)_seq"),
                watermark: try meta(c, "\(kind.rawValue)_watermark"), states: states)
            return (cp, createdAt)
        }
    }

    func saveCandidate(_ checkpoint: JournalCheckpoint, createdAt: Int64) throws {
        try serial {
            try transaction { c in
                try run("DELETE FROM retained_checkpoint WHERE kind = 'candidate'", on: c)
                try insertStates(c, table: "retained_checkpoint", kind: "candidate", checkpoint.states)
                try setMeta(c, "candidate_pos", checkpoint.position)
                try setMeta(c, "candidate_seq", checkpoint.seq)
                try setMeta(c, "candidate_watermark", checkpoint.watermark)
                try setMeta(c, "candidate_created_at", createdAt)
            }
        }
    }

    func compactToCandidate() throws -> Int {
        try serial {
            try transaction { c in
                guard try meta(c, "candidate_created_at") > 0 else { return 0 }
                let position = try meta(c, "candidate_pos")
                try run("DELETE FROM retained_checkpoint WHERE kind = 'base'", on: c)
                try run("UPDATE retained_checkpoint SET kind = 'base' WHERE kind = 'candidate'", on: c)
                for key in ["pos", "seq", "watermark", "created_at"] {
                    try setMeta(c, "base_\(key)", try meta(c, "candidate_\(key)"))
                    try setMeta(c, "candidate_\(key)", 0)
                }
                return try run("DELETE FROM journal WHERE pos <= \(position)", on: c).metadata.rows ?? 0
            }
        }
    }

    func appendHistory(_ changes: [AlertChange]) throws {
        try serial {
            guard !changes.isEmpty else { return }
            let seqs = changes.map(\.seq)
            let fingerprints = changes.map(\.fingerprint)
            let bodies = changes.map { ByteBuffer(bytes: JSONWriter.bytes($0.json)) }
            try run(
                """
                INSERT INTO alert_history(seq, fingerprint, body)
                SELECT s, f, b FROM unnest(\(seqs)::BIGINT[], \(fingerprints)::TEXT[], \(bodies)::BYTEA[]) AS u(s, f, b)
                ON CONFLICT (seq) DO NOTHING
                """)
        }
    }

    func history(fingerprint: String) throws -> [AlertChange] {
        try serial {
            try run("SELECT body FROM alert_history WHERE fingerprint = \(fingerprint) ORDER BY seq").rows.compactMap { row in
                try? JSONDecoder().decode(AlertChange.self, from: Data(Array(buffer: try row.decode(ByteBuffer.self))))
            }
        }
    }

    func close() {
        let connection = state.withLock { s in
            defer { s.connection = nil }
            return s.connection
        }
        // Closing the session releases the writer lock.
        _ = try? connection?.close().wait()
    }

    deinit { close() }

    // MARK: Rows

    private func insertStates(_ c: PostgresConnection, table: String, kind: String?, _ states: [String: Data]) throws {
        guard !states.isEmpty else { return }
        let sorted = states.sorted { $0.key < $1.key }
        let handlers = sorted.map(\.key)
        let blobs = sorted.map { ByteBuffer(bytes: Array($0.value)) }
        if let kind {
            try run(
                "INSERT INTO retained_checkpoint(kind, handler, state) SELECT \(kind), h, s FROM unnest(\(handlers)::TEXT[], \(blobs)::BYTEA[]) AS u(h, s)",
                on: c)
        } else {
            try run("INSERT INTO checkpoint(handler, state) SELECT h, s FROM unnest(\(handlers)::TEXT[], \(blobs)::BYTEA[]) AS u(h, s)", on: c)
        }
    }

    private func meta(_ c: PostgresConnection, _ key: String) throws -> Int64 {
        try Self.int(try run("SELECT value FROM meta WHERE key = \(key)", on: c))
    }

    private func setMeta(_ c: PostgresConnection, _ key: String, _ value: Int64) throws {
        try run(
            "INSERT INTO meta(key, value) VALUES (\(key), \(value)) ON CONFLICT(key) DO UPDATE SET value = excluded.value", on: c)
    }

    private static func entry(_ row: PostgresRow) throws -> JournalEntry {
        let (pos, kind, received, source, id, type, topic, body, reason, detail) = try row.decode(
            (Int64, Int16, Int64, String?, String?, String?, ByteBuffer, ByteBuffer, String?, String?).self)
        return JournalEntry(
            position: pos, kind: JournalEntry.Kind(rawValue: Int64(kind)) ?? .tick, receivedAt: Timestamp(epochMilliseconds: received),
            source: source, eventId: id, type: type, topic: Array(buffer: topic), body: Array(buffer: body),
            reason: reason.flatMap(RejectionReason.init(rawValue:)), detail: detail)
    }
}
