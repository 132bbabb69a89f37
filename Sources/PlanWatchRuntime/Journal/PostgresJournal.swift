import Foundation
import HandlerKit
import Logging
import PlanWatchModel
import PostgresNIO
import Synchronization

/// The journal in PostgreSQL, for state that must outlive a host.
///
/// One writer at a time: the writer holds a session advisory lock for as long as it runs. A
/// second daemon pointed at the same database waits for the lock as a standby and takes over
/// (replaying from the last checkpoint) as soon as the first one's connection is gone.
///
/// A writer whose connection breaks reconnects and takes the lock again, waiting up to
/// ``lockWait`` for its own old session to end (the server may not have noticed yet that it
/// is gone). If another daemon holds the lock by then, every write throws a fatal error:
/// the daemon stops, non-zero, and its supervisor starts it again as a standby — two daemons
/// never write the same journal. After a broken connection the last position is read again:
/// a batch whose COMMIT reached the server although its answer did not is known as recorded.
///
/// Positions are assigned by the writer (the last one is read at start), in order, without
/// gaps; dedupe stays in memory as with SQLite (rebuilt from the journal at start).
final class PostgresJournal: Journal, Sendable {
    /// The lock every writer of a PlanWatch journal takes (an arbitrary, fixed number).
    static let writerLock: Int64 = 0x706c_616e_7761_7463

    let location: String
    /// A checkpoint's transaction holds the connection appends use.
    var checkpointsBlockAppends: Bool { true }
    private let configuration: PostgresConnection.Configuration
    private let role: JournalStore.Role
    /// PostgresNIO's own logging: errors only.
    private let nioLogger: Logger
    /// The daemon's logger, for what the journal itself has to say.
    private let logger: Logger
    /// How long a writer that reconnects waits for the lock before it gives up.
    let lockWait: Duration
    /// Whether the daemon is stopping: a standby stops waiting for the lock, and a batch in
    /// doubt stops waiting for the server to say whether it landed.
    private let shouldStop: @Sendable () -> Bool
    /// Told each time a batch in doubt finds the server out of reach: the runtime counts it as
    /// a failed write, so that operators' alert on failed writes fires and the daemon is not
    /// ready while it accepts nothing, as for a batch refused.
    private let inDoubt: @Sendable () -> Void
    private struct State {
        var connection: PostgresConnection?
        var lastPosition: Int64 = 0
        var fenced = false
        /// The daemon stopped waiting for a batch in doubt: it journals nothing more (a resend
        /// of that batch, drained after it, could otherwise be journaled a second time).
        var leftInDoubt = false
        /// When the daemon was first seen stopping by a wait for a connection or the lock.
        var stoppingSince: ContinuousClock.Instant?
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

    init(
        url: String, role: JournalStore.Role, lockWait: Duration = .seconds(30), logger: Logger = Logger(label: "planwatch.journal"),
        onWait: @escaping @Sendable (String) -> Void, shouldStop: @escaping @Sendable () -> Bool = { false },
        inDoubt: @escaping @Sendable () -> Void = {}
    ) throws {
        (configuration, location) = try Self.configuration(from: url)
        self.role = role
        self.lockWait = lockWait
        self.logger = logger
        self.shouldStop = shouldStop
        self.inDoubt = inDoubt
        var nioLogger = Logger(label: "planwatch.postgres")
        nioLogger.logLevel = .error
        self.nioLogger = nioLogger
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
                if shouldStop() {
                    _ = try? answer(connection.close(), on: connection)
                    throw JournalError(description: "stopped while standing by", stopped: true)
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
            try migrate(connection)
            let last = try lastPosition(connection)
            state.withLock { $0.lastPosition = last }
        case .reader:
            let exists = try Self.int(try run("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'planwatch_schema'", on: connection))
            guard exists > 0 else {
                _ = try? answer(connection.close(), on: connection)
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

    /// How long a stopping daemon still waits for a new connection or its lock back, so that
    /// the batches it drains are journaled if PostgreSQL is merely slow to answer (a connect
    /// on a loaded host); an acknowledged batch refused after it is sent again by its producer.
    static let stopGrace: Duration = .seconds(5)

    /// Whether the daemon has been stopping for longer than ``stopGrace``, counted from the
    /// first time a wait here saw it stopping.
    private func stoppingPastGrace() -> Bool {
        guard shouldStop() else { return false }
        let now = ContinuousClock.now
        let since = state.withLock { s in
            if s.stoppingSince == nil { s.stoppingSince = now }
            return s.stoppingSince ?? now
        }
        return now - since >= Self.stopGrace
    }

    /// A new connection. The wait for it (up to postgres-nio's connect timeout, 10 s, on a
    /// network that drops packets) ends early when the daemon has been stopping longer than
    /// ``stopGrace``; a connection made after that is closed.
    private func connect() throws -> PostgresConnection {
        let future = PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: nioLogger)
        do {
            return try Self.result(of: future, checkingEvery: 0.25) {
                guard stoppingPastGrace() else { return }
                future.whenSuccess { c in c.close().whenComplete { _ in withExtendedLifetime(c) {} } }
                throw Self.stoppedError(location, while: "connecting")
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(description: "cannot connect to PostgreSQL at \(location): \(String(reflecting: error))")
        }
    }

    /// Waits for `future`'s result, calling `check` after each `seconds` without it; `check`
    /// gives up the wait by throwing. The one way this journal waits for postgres-nio.
    private static func result<T: Sendable>(of future: EventLoopFuture<T>, checkingEvery seconds: Double, _ check: () throws -> Void) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<T, any Error>?>(nil)
        future.whenComplete { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        while true {
            if done.wait(timeout: .now() + seconds) == .success, let result = outcome.withLock({ $0 }) { return try result.get() }
            try check()
        }
    }

    private func tryLock(_ connection: PostgresConnection) throws -> Bool {
        let rows = try run("SELECT pg_try_advisory_lock(\(Self.writerLock))", on: connection).rows
        return try rows.first?.decode(Bool.self) ?? false
    }

    private func lastPosition(_ connection: PostgresConnection) throws -> Int64 {
        let meta = [JournalSpec.Meta.checkpointPosition] + [RetainedCheckpoint.base, .candidate].map { JournalSpec.Meta.retained($0, .pos) }
        return try Self.int(
            try run(
                """
                SELECT GREATEST(COALESCE((SELECT MAX(pos) FROM journal), 0),
                                COALESCE((SELECT MAX(value) FROM meta WHERE key = ANY(\(meta)::TEXT[])), 0))
                """, on: connection))
    }

    /// The live connection. A writer whose connection broke reconnects, takes its lock again
    /// (waiting up to ``lockWait`` for its old session to end) and reads the last position
    /// again; if another daemon holds the lock, it is fenced: every write throws a fatal error.
    /// Called inside ``serial(_:)``, so that one thread at a time reconnects.
    private func live() throws -> PostgresConnection {
        let current = try state.withLock { s -> PostgresConnection? in
            if s.fenced { throw Self.fencedError(location) }
            if let c = s.connection, !c.isClosed { return c }
            s.connection = nil
            return nil
        }
        if let current { return current }
        let c = try connect()
        var last: Int64?
        if role == .writer {
            do {
                let deadline = ContinuousClock.now + lockWait
                while try !tryLock(c) {
                    guard ContinuousClock.now < deadline else {
                        state.withLock { $0.fenced = true }
                        throw Self.fencedError(location)
                    }
                    // The wait may be long (`storage.lockWaitSeconds`, up to an hour): a SIGTERM
                    // meanwhile ends it (after ``stopGrace``), and the batch waiting is refused.
                    if stoppingPastGrace() { throw Self.stoppedError(location, while: "waiting for its lock back") }
                    Thread.sleep(forTimeInterval: 0.25)
                }
                last = try lastPosition(c)
            } catch {
                _ = try? answer(c.close(), on: c)
                throw error
            }
        }
        state.withLock { s in
            s.connection = c
            if let last { s.lastPosition = last }
        }
        return c
    }

    private static func stoppedError(_ location: String, while waiting: String) -> JournalError {
        JournalError(description: "PostgreSQL at \(location): stopped while \(waiting)", stopped: true)
    }

    private static func fencedError(_ location: String) -> JournalError {
        JournalError(
            description: "lost the journal lock at \(location): another planwatchd writes it now; stopping so that this one can stand by",
            fatal: true)
    }

    /// Drops a connection that failed, so that the next operation reconnects. It does not wait
    /// for the close: on a connection that broke, that answer may never come either. The
    /// connection is kept until its close completes: postgres-nio asserts that a connection is
    /// closed when it is freed, and the last reference often went with the failed statement's
    /// caller, before the close was done — a debug build stopped there (seen in
    /// `PostgresFaultTests`, a session ended by the server under load).
    private func drop(_ connection: PostgresConnection) {
        state.withLock { s in
            if s.connection === connection { s.connection = nil }
        }
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// The statement's answer. A session the server ends (`pg_terminate_backend`, a restart)
    /// while a statement is on its way can leave that statement's future unanswered for ever
    /// (seen with postgres-nio 1.x: the pipeline waited in an INSERT after its connection had
    /// closed, and the daemon neither journaled nor stopped). So the wait looks at the
    /// connection every second: closed, and still no answer a second later, is a broken
    /// connection — never a slow statement, however long a checkpoint takes.
    private func answer<T: Sendable>(_ future: EventLoopFuture<T>, on connection: PostgresConnection) throws -> T {
        var closedChecks = 0
        return try Self.result(of: future, checkingEvery: 1) {
            closedChecks = connection.isClosed ? closedChecks + 1 : 0
            if closedChecks >= 2 {
                logger.warning("a PostgreSQL connection closed without answering a statement; reconnecting", metadata: ["journal": "\(location)"])
                throw JournalError(description: "PostgreSQL at \(location): the connection closed without answering the statement")
            }
        }
    }

    @discardableResult
    private func run(_ query: PostgresQuery, on connection: PostgresConnection) throws -> PostgresQueryResult {
        do {
            return try answer(connection.query(query, logger: nioLogger), on: connection)
        } catch let error as PSQLError where error.code == .server {
            // The server refused the statement; the connection itself is fine.
            throw JournalError(description: "PostgreSQL at \(location): \(String(reflecting: error))")
        } catch let error as JournalError {
            drop(connection)
            throw error
        } catch {
            drop(connection)
            throw JournalError(description: "PostgreSQL at \(location): \(String(reflecting: error))")
        }
    }

    @discardableResult
    private func run(_ query: PostgresQuery) throws -> PostgresQueryResult { try run(query, on: try live()) }

    /// Runs `body` in one transaction, rolled back if it throws; `committing` is called just
    /// before the COMMIT is sent.
    private func transaction<T>(_ body: (PostgresConnection) throws -> T, committing: () -> Void = {}) throws -> T {
        let c = try live()
        try run("BEGIN", on: c)
        do {
            let result = try body(c)
            committing()
            try run("COMMIT", on: c)
            return result
        } catch {
            // On a connection that broke there is nothing to roll back (the server does), and a
            // statement sent on it would never be answered.
            if state.withLock({ $0.connection === c }) && !c.isClosed { _ = try? run("ROLLBACK", on: c) }
            throw error
        }
    }

    private static func int(_ result: PostgresQueryResult) throws -> Int64 {
        try result.rows.first?.decode(Int64?.self) ?? 0
    }

    // MARK: Schema

    /// ``JournalSpec``'s statements, one version each.
    private func migrate(_ c: PostgresConnection) throws {
        try run("CREATE TABLE IF NOT EXISTS planwatch_schema(version INTEGER NOT NULL)", on: c)
        let done = Int(try Self.int(try run("SELECT COALESCE(MAX(version), 0)::BIGINT FROM planwatch_schema", on: c)))
        for (i, sql) in JournalSpec.statements(.postgres).enumerated() where i + 1 > done {
            try run("BEGIN", on: c)
            try run(PostgresQuery(unsafeSQL: sql), on: c)
            try run("INSERT INTO planwatch_schema(version) VALUES (\(i + 1))", on: c)
            try run("COMMIT", on: c)
        }
    }

    // MARK: Journal

    func append(_ entries: [JournalEntry], publishedThrough: Int64) throws -> [JournalEntry] {
        try serial {
            var stored = entries
            guard !stored.isEmpty else { return stored }
            if state.withLock({ $0.leftInDoubt }) {
                throw JournalError(description: "PostgreSQL at \(location): stopping with a batch in doubt; this daemon journals nothing more")
            }
            /// The batch's last entry with its position, once its COMMIT is sent: only then can
            /// it have landed (a session that ends before its COMMIT is rolled back).
            var sent: JournalEntry?
            do {
                try transaction({ c in
                    // Positions follow the journal as this connection found it. Taken before the
                    // connection, they could be stale: a batch whose commit was not confirmed may
                    // have landed, and a reconnect reads the last position again — a batch at the
                    // old positions then collided with it and was taken for it (answered ok, not
                    // journaled: PostgresFaultTests, a session ended by the server under load).
                    let first = state.withLock { $0.lastPosition } + 1
                    for i in stored.indices { stored[i].position = first + Int64(i) }
                    try insert(stored, on: c)
                    try setMeta(c, JournalSpec.Meta.publishedThrough, publishedThrough)
                }, committing: { sent = stored.last })
            } catch let error as JournalError where !error.fatal {
                // Did the batch land anyway (the COMMIT reached the server, its answer did not)?
                // Only if the journal holds this batch's own last entry where it was sent.
                guard let last = sent, try landedOnceKnown(last, after: error) else { throw error }
                logger.notice("a batch whose commit was not confirmed is in the journal", metadata: ["position": "\(last.position)"])
                state.withLock { $0.lastPosition = max($0.lastPosition, last.position) }
                return stored
            }
            state.withLock { $0.lastPosition = stored[stored.count - 1].position }
            return stored
        }
    }

    /// One statement for the whole batch; '' stands for NULL (no id, source or reason is empty).
    private func insert(_ stored: [JournalEntry], on c: PostgresConnection) throws {
        var positions: [Int64] = [], kinds: [Int64] = [], received: [Int64] = []
        var sources: [String] = [], ids: [String] = [], types: [String] = [], reasons: [String] = [], details: [String] = []
        var topics: [ByteBuffer] = [], bodies: [ByteBuffer] = [], keys: [ByteBuffer] = []
        for e in stored {
            positions.append(e.position)
            kinds.append(e.kind.rawValue)
            received.append(e.receivedAt.epochMilliseconds)
            sources.append(JournalSpec.text(e.key?.source ?? ""))
            ids.append(JournalSpec.text(e.key?.id ?? ""))
            types.append(e.type ?? "")
            reasons.append(e.reason?.rawValue ?? "")
            details.append(JournalSpec.text(e.detail ?? ""))
            topics.append(ByteBuffer(bytes: e.topic))
            bodies.append(ByteBuffer(bytes: e.body))
            keys.append(ByteBuffer(bytes: e.key?.bytes ?? []))
        }
        try run(
            """
            INSERT INTO journal(pos, kind, received_at, source, event_id, type, topic, body, reason, detail, event_key)
            SELECT p, k, r, NULLIF(s, ''), NULLIF(i, ''), NULLIF(t, ''), tp, b, NULLIF(re, ''), NULLIF(d, ''),
                   NULLIF(ek, ''::BYTEA)
            FROM unnest(\(positions)::BIGINT[], \(kinds)::SMALLINT[], \(received)::BIGINT[], \(sources)::TEXT[],
                        \(ids)::TEXT[], \(types)::TEXT[], \(topics)::BYTEA[], \(bodies)::BYTEA[], \(reasons)::TEXT[],
                        \(details)::TEXT[], \(keys)::BYTEA[]) AS u(p, k, r, s, i, t, tp, b, re, d, ek)
            """, on: c)
    }

    /// Whether the batch that ends with `last` landed, asked again until the server answers.
    ///
    /// A batch in doubt is never refused while it may have landed: refused, its event keys
    /// would be released and the producers' resend journaled a second time. So the append (and
    /// the pipeline behind it) waits here while PostgreSQL cannot be reached — it could not
    /// journal anything else meanwhile — and gives up only when the daemon stops (the batch is
    /// refused; the next start rebuilds its dedupe window from the journal, so a resend of a
    /// batch that landed is a duplicate there) or when another writer holds the journal (fatal).
    private func landedOnceKnown(_ last: JournalEntry, after failure: JournalError) throws -> Bool {
        var pause = 0.1
        var warned = false
        while true {
            do {
                let landed = try landed(last)
                if warned {
                    logger.notice("the batch in doubt is known again", metadata: ["position": "\(last.position)", "landed": "\(landed)"])
                }
                return landed
            } catch let error as JournalError where error.fatal {
                throw error
            } catch {
                inDoubt()
                if shouldStop() {
                    logger.warning(
                        "stopping with a batch in doubt: refused, and nothing more journaled; if it landed, the next start knows its events as duplicates",
                        metadata: ["position": "\(last.position)"])
                    state.withLock { $0.leftInDoubt = true }
                    return false
                }
                if !warned {
                    logger.warning(
                        "a batch whose commit was not confirmed, and PostgreSQL cannot be asked whether it landed: waiting for it (nothing else can be journaled meanwhile)",
                        metadata: ["position": "\(last.position)", "journal": "\(location)", "commit": "\(failure)", "error": "\(error)"])
                    warned = true
                }
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 2)
            }
        }
    }

    /// After a failed append: reconnects if need be and tells whether the journal holds
    /// `entry` at its position (its kind, time and event key), i.e. whether its batch landed.
    private func landed(_ entry: JournalEntry) throws -> Bool {
        let c = try live()
        let rows = try run(
            "SELECT kind::BIGINT, received_at, event_key FROM journal WHERE pos = \(entry.position)", on: c
        ).rows
        guard let row = rows.first else { return false }
        let (kind, received, key) = try row.decode((Int64, Int64, ByteBuffer?).self)
        return kind == entry.kind.rawValue && received == entry.receivedAt.epochMilliseconds
            && (key.map { Array(buffer: $0) } ?? []) == (entry.key?.bytes ?? [])
    }

    func setPublishedThrough(_ position: Int64) throws {
        try serial {
            try setMeta(try live(), JournalSpec.Meta.publishedThrough, position)
        }
    }

    var publishedThrough: Int64 { get throws { try serial { try meta(try live(), JournalSpec.Meta.publishedThrough) } } }

    func forEachEntry(after: Int64, before: Int64, _ body: (JournalEntry) throws -> Void) throws {
        var from = after
        while true {
            let page = try serial {
                try run(
                    """
                    SELECT pos, kind, received_at, source, event_id, type, topic, body, reason, detail, event_key
                    FROM journal WHERE pos > \(from) AND pos < \(before) ORDER BY pos LIMIT \(JournalSpec.pageSize)
                    """
                ).rows.map(Self.entry)
            }
            for entry in page { try body(entry) }
            guard page.count == JournalSpec.pageSize, let last = page.last else { return }
            from = last.position
        }
    }

    func forEachEventKey(_ body: (Int64, EventKey) -> Void) throws {
        var from: Int64 = 0
        while true {
            let rows = try serial {
                try run(
                    """
                    SELECT pos, source, event_id, event_key FROM journal
                    WHERE kind = 0 AND pos > \(from) ORDER BY pos LIMIT \(JournalSpec.pageSize)
                    """
                ).rows.map { try $0.decode((Int64, String?, String?, ByteBuffer?).self) }
            }
            for (pos, source, id, stored) in rows {
                // Rows written before v4 have no event_key: their text columns are exact.
                if let key = stored.flatMap({ EventKey(bytes: Array(buffer: $0)) }) {
                    body(pos, key)
                } else if let source, let id {
                    body(pos, EventKey(source: source, id: id))
                }
                from = pos
            }
            if rows.count < JournalSpec.pageSize { return }
        }
    }

    var entryCount: Int { get throws { try serial { Int(try Self.int(try run("SELECT COUNT(*) FROM journal"))) } } }

    func quarantined() throws -> [Quarantined] {
        try serial {
            try run("SELECT pos, handler, reason, created_at FROM quarantine ORDER BY pos, handler").rows.map { row in
                let (pos, handler, reason, createdAt) = try row.decode((Int64, String, String, Int64).self)
                return Quarantined(position: pos, handler: handler, reason: reason, createdAt: createdAt)
            }
        }
    }

    func quarantine(_ q: Quarantined) throws {
        _ = try serial {
            try run(
                """
                INSERT INTO quarantine(pos, handler, reason, created_at)
                VALUES (\(q.position), \(q.handler), \(JournalSpec.text(q.reason)), \(q.createdAt)) ON CONFLICT DO NOTHING
                """)
        }
    }

    func loadCheckpoint(only handler: String?) throws -> JournalCheckpoint {
        try serial {
            let c = try live()
            var states: [String: Data] = [:]
            for row in try run("SELECT handler, state FROM checkpoint WHERE \(handler)::TEXT IS NULL OR handler = \(handler)", on: c).rows {
                let (handler, state) = try row.decode((String, ByteBuffer).self)
                states[handler] = Data(Array(buffer: state))
            }
            var cp = JournalCheckpoint(
                position: try meta(c, JournalSpec.Meta.checkpointPosition), seq: try meta(c, JournalSpec.Meta.checkpointSeq),
                watermark: try meta(c, JournalSpec.Meta.checkpointWatermark), states: states, origin: .live)
            cp.subjects = try subjects(
                run("SELECT handler, path, key, value FROM checkpoint_subject WHERE \(handler)::TEXT IS NULL OR handler = \(handler)", on: c))
            return cp
        }
    }

    /// Every subject row a query gives (handler, path, key, value), by handler.
    private func subjects(_ result: PostgresQueryResult) throws -> [String: HandlerSubjects] {
        var subjects: [String: HandlerSubjects] = [:]
        for row in result.rows {
            let (handler, path, key, value) = try row.decode((String, String, ByteBuffer, ByteBuffer).self)
            subjects[handler, default: HandlerSubjects(full: true, rows: [])].rows.append(
                SubjectRow(path: path, key: String(buffer: key), value: Data(Array(buffer: value))))
        }
        return subjects
    }

    /// Applies a checkpoint's subject changes to the live subjects.
    private func applySubjects(_ c: PostgresConnection, _ all: [String: HandlerSubjects]) throws {
        for (handler, subjects) in all.sorted(by: { $0.key < $1.key }) {
            if subjects.full { try run("DELETE FROM checkpoint_subject WHERE handler = \(handler)", on: c) }
            // A chunk at a time: one statement of a few MB each, not one holding every row (a
            // parameter of PostgreSQL cannot exceed 1 GB: a city's million classes come near).
            try subjects.forEachChunk { chunk in try applyChunk(c, handler: handler, full: subjects.full, chunk) }
        }
    }

    private func applyChunk(_ c: PostgresConnection, handler: String, full: Bool, _ rows: [SubjectRow]) throws {
        let set = rows.filter { $0.value != nil }
        let removed = full ? [] : rows.filter { $0.value == nil }
        if !set.isEmpty {
            let paths = set.map(\.path)
            let keys = set.map { ByteBuffer(bytes: Array($0.key.utf8)) }
            let values = set.map { ByteBuffer(bytes: Array($0.value ?? Data())) }
            try run(
                """
                INSERT INTO checkpoint_subject(handler, path, key, value)
                SELECT \(handler), p, k, v FROM unnest(\(paths)::TEXT[], \(keys)::BYTEA[], \(values)::BYTEA[]) AS u(p, k, v)
                ON CONFLICT (handler, path, key) DO UPDATE SET value = excluded.value
                """, on: c)
        }
        if !removed.isEmpty {
            let paths = removed.map(\.path)
            let keys = removed.map { ByteBuffer(bytes: Array($0.key.utf8)) }
            try run(
                """
                DELETE FROM checkpoint_subject WHERE handler = \(handler)
                AND (path, key) IN (SELECT p, k FROM unnest(\(paths)::TEXT[], \(keys)::BYTEA[]) AS u(p, k))
                """, on: c)
        }
    }

    func saveCheckpoint(_ checkpoint: JournalCheckpoint) throws {
        try serial {
            try transaction { c in
                try run("DELETE FROM checkpoint", on: c)
                try insertStates(c, table: "checkpoint", kind: nil, checkpoint.states)
                try applySubjects(c, checkpoint.subjects)
                try setMeta(c, JournalSpec.Meta.checkpointPosition, checkpoint.position)
                try setMeta(c, JournalSpec.Meta.checkpointSeq, checkpoint.seq)
                try setMeta(c, JournalSpec.Meta.checkpointWatermark, checkpoint.watermark)
            }
        }
    }

    func loadRetained(_ kind: RetainedCheckpoint, only handler: String?) throws -> (checkpoint: JournalCheckpoint, createdAt: Int64)? {
        try serial {
            let c = try live()
            let createdAt = try meta(c, JournalSpec.Meta.retained(kind, .createdAt))
            guard createdAt > 0 else { return nil }
            var states: [String: Data] = [:]
            for row in try run(
                "SELECT handler, state FROM retained_checkpoint WHERE kind = \(kind.rawValue) AND (\(handler)::TEXT IS NULL OR handler = \(handler))",
                on: c
            ).rows {
                let (handler, state) = try row.decode((String, ByteBuffer).self)
                states[handler] = Data(Array(buffer: state))
            }
            var cp = JournalCheckpoint(
                position: try meta(c, JournalSpec.Meta.retained(kind, .pos)), seq: try meta(c, JournalSpec.Meta.retained(kind, .seq)),
                watermark: try meta(c, JournalSpec.Meta.retained(kind, .watermark)), states: states, origin: .retained(kind))
            cp.subjects = try subjects(
                run(
                    """
                    SELECT handler, path, key, value FROM retained_subject
                    WHERE kind = \(kind.rawValue) AND (\(handler)::TEXT IS NULL OR handler = \(handler))
                    """, on: c))
            return (cp, createdAt)
        }
    }

    func retained(_ kind: RetainedCheckpoint) throws -> (position: Int64, createdAt: Int64)? {
        try serial {
            let c = try live()
            let createdAt = try meta(c, JournalSpec.Meta.retained(kind, .createdAt))
            return createdAt > 0 ? (try meta(c, JournalSpec.Meta.retained(kind, .pos)), createdAt) : nil
        }
    }

    func saveCandidate(_ checkpoint: JournalCheckpoint, createdAt: Int64) throws {
        try serial {
            try transaction { c in
                try run("DELETE FROM retained_checkpoint WHERE kind = 'candidate'", on: c)
                try insertStates(c, table: "retained_checkpoint", kind: "candidate", checkpoint.states)
                try setMeta(c, JournalSpec.Meta.retained(.candidate, .pos), checkpoint.position)
                try setMeta(c, JournalSpec.Meta.retained(.candidate, .seq), checkpoint.seq)
                try setMeta(c, JournalSpec.Meta.retained(.candidate, .watermark), checkpoint.watermark)
                try setMeta(c, JournalSpec.Meta.retained(.candidate, .createdAt), createdAt)
                try run("DELETE FROM retained_subject WHERE kind = 'candidate'", on: c)
                try run(
                    "INSERT INTO retained_subject(kind, handler, path, key, value) SELECT 'candidate', handler, path, key, value FROM checkpoint_subject",
                    on: c)
            }
        }
    }

    func compactToCandidate() throws -> Int {
        try serial {
            try transaction { c in
                guard try meta(c, JournalSpec.Meta.retained(.candidate, .createdAt)) > 0 else { return 0 }
                let position = try meta(c, JournalSpec.Meta.retained(.candidate, .pos))
                try run("DELETE FROM retained_checkpoint WHERE kind = 'base'", on: c)
                try run("UPDATE retained_checkpoint SET kind = 'base' WHERE kind = 'candidate'", on: c)
                try run("DELETE FROM retained_subject WHERE kind = 'base'", on: c)
                try run("UPDATE retained_subject SET kind = 'base' WHERE kind = 'candidate'", on: c)
                for field in JournalSpec.RetainedField.allCases {
                    try setMeta(c, JournalSpec.Meta.retained(.base, field), try meta(c, JournalSpec.Meta.retained(.candidate, field)))
                    try setMeta(c, JournalSpec.Meta.retained(.candidate, field), 0)
                }
                return try run("DELETE FROM journal WHERE pos <= \(position)", on: c).metadata.rows ?? 0
            }
        }
    }

    func appendHistory(_ changes: [AlertChange]) throws {
        try serial {
            guard !changes.isEmpty else { return }
            let seqs = changes.map(\.seq)
            let fingerprints = changes.map { JournalSpec.text($0.fingerprint) }
            let bodies = changes.map { ByteBuffer(bytes: $0.body) }
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
            try run("SELECT body FROM alert_history WHERE fingerprint = \(JournalSpec.text(fingerprint)) ORDER BY seq").rows.compactMap { row in
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
        _ = try? connection.map { try answer($0.close(), on: $0) }
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
        let (pos, kind, received, source, id, type, topic, body, reason, detail, stored) = try row.decode(
            (Int64, Int16, Int64, String?, String?, String?, ByteBuffer, ByteBuffer, String?, String?, ByteBuffer?).self)
        let key = stored.flatMap { EventKey(bytes: Array(buffer: $0)) } ?? source.flatMap { s in id.map { EventKey(source: s, id: $0) } }
        return JournalEntry(
            position: pos, kind: JournalEntry.Kind(rawValue: Int64(kind)) ?? .tick, receivedAt: Timestamp(epochMilliseconds: received),
            key: key, type: type, topic: Array(buffer: topic), body: Array(buffer: body),
            reason: reason.flatMap(RejectionReason.init(rawValue:)), detail: detail)
    }
}
