import Foundation
import HandlerKit
import Logging
import PlanWatchModel

/// The journal: every accepted event, tick and rejected message in order, handler
/// checkpoints, and the positions the pipeline needs to resume. Two stores implement it:
/// ``SQLiteJournal`` (a file, one host) and ``PostgresJournal`` (state that outlives a host).
///
/// Used by one thread at a time (the pipeline, or a replay); every method blocks until the
/// store has answered, and a write returns only once it is durable.
protocol Journal: AnyObject, Sendable {
    /// Where it is, for logs: a file path or a URL without its password.
    var location: String { get }

    /// Appends entries in one transaction and records how far outputs have been published.
    /// Returns the entries with their positions.
    func append(_ entries: [JournalEntry], publishedThrough: Int64) throws -> [JournalEntry]
    /// Records how far outputs have been published, outside a batch (at shutdown).
    func setPublishedThrough(_ position: Int64) throws
    var publishedThrough: Int64 { get throws }
    /// Entries after `after` and before `before`, in order, read a page at a time
    /// (``JournalSpec/pageSize``) and handed to `body` one at a time; no read is open while
    /// `body` runs, so `body` may read the journal itself (to rebuild a handler).
    func forEachEntry(after: Int64, before: Int64, _ body: (JournalEntry) throws -> Void) throws
    /// Every `(source, id)` of an accepted event still in the journal, with its position, in order.
    func forEachEventKey(_ body: (Int64, EventKey) -> Void) throws
    /// Entries some handler may no longer see (the daemon died in it on them), oldest first.
    func quarantined() throws -> [Quarantined]
    /// Records that `handler` may no longer see the entry at `position`.
    func quarantine(_ entry: Quarantined) throws
    /// Entries in the journal now (after compaction).
    var entryCount: Int { get throws }

    /// The live checkpoint; with `only`, that handler's state and subjects alone.
    func loadCheckpoint(only handler: String?) throws -> JournalCheckpoint
    /// Saves the states, applies the subjects' changes, moves the checkpoint's position.
    func saveCheckpoint(_ checkpoint: JournalCheckpoint) throws
    /// True when saving a checkpoint holds what an append needs (PostgreSQL: the one connection,
    /// for the whole transaction): the pipeline waits for the writer, which must then not run
    /// at a lower priority than it.
    var checkpointsBlockAppends: Bool { get }
    /// A checkpoint kept for compaction, with when it was made (ms since 1970); with `only`,
    /// that handler's state and subjects alone.
    func loadRetained(_ kind: RetainedCheckpoint, only handler: String?) throws -> (checkpoint: JournalCheckpoint, createdAt: Int64)?
    /// Where a retained checkpoint is and when it was made, without reading it; nil when there is none.
    func retained(_ kind: RetainedCheckpoint) throws -> (position: Int64, createdAt: Int64)?
    /// Keeps `checkpoint`, just saved as the live one, as the compaction's candidate: its
    /// states, and the live subjects (which are its subjects, since it was the last saved).
    func saveCandidate(_ checkpoint: JournalCheckpoint, createdAt: Int64) throws
    /// Makes the candidate the base and deletes every entry up to it, in one transaction.
    /// Returns how many entries were deleted.
    func compactToCandidate() throws -> Int
    /// Adds changes to the alerts' audit trail; a change already there (the same `seq`, as
    /// after a replay) is kept as it was. The trail is never compacted.
    func appendHistory(_ changes: [AlertChange]) throws
    /// The audit trail of one alert, oldest first.
    func history(fingerprint: String) throws -> [AlertChange]
    /// Lets go of the store (and, for a writer, of its lock).
    func close()
}

/// A journal entry withheld from one handler: the daemon died while that handler processed
/// it, on consecutive starts (``CrashGuard``).
struct Quarantined: Sendable, Equatable, Hashable {
    var position: Int64
    var handler: String
    var reason: String
    /// When it was quarantined (ms since 1970).
    var createdAt: Int64
}

extension Journal {
    /// Every entry after `position`, in order (see ``forEachEntry(after:before:_:)``).
    func forEachEntry(after position: Int64, _ body: (JournalEntry) throws -> Void) throws {
        try forEachEntry(after: position, before: .max, body)
    }
}

/// The handlers' states as of a journal position, with the output `seq` and the event-time
/// watermark reached there.
struct JournalCheckpoint: Sendable {
    var position: Int64
    var seq: Int64
    var watermark: Int64 = 0
    /// Each handler's state as JSON, with its ``SubjectMap``s' subjects taken out.
    var states: [String: Data]
    /// The subjects of the handlers whose states have ``SubjectMap``s: loaded, every one; to
    /// save, those that changed since the checkpoint before (or, `full`, every one).
    var subjects: [String: HandlerSubjects] = [:]
    /// Where it was read from, so that a handler rebuilt after a failure starts from the same one.
    var origin: Origin = .none

    enum Origin: Sendable, Equatable {
        /// Not stored (the start of an empty journal).
        case none
        /// The live checkpoint (``Journal/loadCheckpoint(only:)``).
        case live
        /// A retained one (``Journal/loadRetained(_:only:)``).
        case retained(RetainedCheckpoint)
    }

    /// No checkpoint: the state before the journal's first entry.
    static let empty = JournalCheckpoint(position: 0, seq: 0, states: [:])

    /// The bytes written per part (a handler, the alert desk, the output store): its state
    /// and its subjects.
    var bytes: [String: Int] {
        states.mapValues(\.count).merging(subjects.mapValues(\.bytes), uniquingKeysWith: +)
    }

    /// Where it is and where it came from, without its states and subjects: what a processor
    /// keeps of it (they are in the journal, read back when a handler is rebuilt).
    var reference: JournalCheckpoint {
        JournalCheckpoint(position: position, seq: seq, watermark: watermark, states: [:], origin: origin)
    }
}

/// A handler's subjects in a checkpoint (see ``JournalCheckpoint/subjects``): the rows read
/// back from a journal, or, in a checkpoint being written, the subjects taken, encoded a
/// chunk at a time as the journal writes them.
struct HandlerSubjects: Sendable {
    /// True: these are every subject the handler has (the stored ones are replaced).
    var full: Bool
    /// The rows read back (empty in a checkpoint being written: see ``forEachChunk(_:)``).
    var rows: [SubjectRow]
    private var taken: SubjectSink?

    /// How many rows a journal writes at a time: a few MB of JSON, one statement on PostgreSQL.
    static let chunkSize = 4096

    init(full: Bool, rows: [SubjectRow]) {
        (self.full, self.rows, taken) = (full, rows, nil)
    }

    /// The subjects a checkpoint took, to be encoded as they are written.
    init(taken: SubjectSink) {
        (full, rows, self.taken) = (taken.full, [], taken)
    }

    /// Calls `body` with the rows in the order a journal stores them, ``chunkSize`` at a time.
    func forEachChunk(_ body: ([SubjectRow]) throws -> Void) throws {
        if let taken { return try taken.forEachChunk(of: Self.chunkSize, body) }
        let sorted = rows.sorted(by: SubjectRow.storedOrder)
        for start in stride(from: 0, to: sorted.count, by: Self.chunkSize) {
            try body(Array(sorted[start..<min(start + Self.chunkSize, sorted.count)]))
        }
    }

    /// How many subjects: taken, or read back.
    var count: Int { taken?.count ?? rows.count }

    /// The bytes of their keys and values (of those taken: encoded so far).
    var bytes: Int { taken?.bytes ?? rows.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) } }
}

/// A checkpoint kept besides the live one: `candidate` (waiting to age past the retention)
/// or `base` (where the journal now starts).
enum RetainedCheckpoint: String, Sendable { case candidate, base }

extension Journal {
    /// Where a replay from the start begins: the base checkpoint if the journal was
    /// compacted, else an empty state at position 0.
    func replayBase() throws -> JournalCheckpoint { try loadRetained(.base)?.checkpoint ?? .empty }

    func loadCheckpoint() throws -> JournalCheckpoint { try loadCheckpoint(only: nil) }

    func loadRetained(_ kind: RetainedCheckpoint) throws -> (checkpoint: JournalCheckpoint, createdAt: Int64)? {
        try loadRetained(kind, only: nil)
    }

    /// The stored checkpoint `origin` names, for one handler; an empty one for ``JournalCheckpoint/Origin/none``.
    func load(_ origin: JournalCheckpoint.Origin, only handler: String) throws -> JournalCheckpoint {
        switch origin {
        case .none: return .empty
        case .live: return try loadCheckpoint(only: handler)
        case .retained(let kind):
            return try loadRetained(kind, only: handler)?.checkpoint ?? .empty
        }
    }
}

/// Opens the journal a location names: a `postgres://` (or `postgresql://`) URL, else a
/// SQLite file path.
enum JournalStore {
    /// Who opens it: the one writer (the daemon's pipeline, which holds the store's writer
    /// lock while it runs), or a reader (replay, inspection) that may run beside it.
    enum Role: Sendable { case writer, reader }

    static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    static func open(
        _ location: String, role: Role, synchronousFull: Bool = true, lockWaitSeconds: Double = 30,
        logger: Logger = Logger(label: "planwatch.journal"), onWait: @escaping @Sendable (String) -> Void = { _ in },
        shouldStop: @escaping @Sendable () -> Bool = { false }, inDoubt: @escaping @Sendable () -> Void = {}
    ) throws -> any Journal {
        if isPostgres(location) {
            return try PostgresJournal(
                url: location, role: role, lockWait: .milliseconds(Int64(lockWaitSeconds * 1000)), logger: logger, onWait: onWait,
                shouldStop: shouldStop, inDoubt: inDoubt)
        }
        if role == .reader && !FileManager.default.fileExists(atPath: location) {
            throw JournalError(description: "no journal at \(location)")
        }
        return try SQLiteJournal(path: location, synchronous: synchronousFull ? .full : .normal, role: role)
    }
}

/// Why the journal could not be opened or written.
struct JournalError: Error, CustomStringConvertible {
    let description: String
    /// Retrying cannot help: the daemon must stop (non-zero, so that its supervisor restarts
    /// it), e.g. when another daemon took the writer lock.
    var fatal = false
    /// Opening was given up because the daemon is stopping (a standby told to stop).
    var stopped = false
}
