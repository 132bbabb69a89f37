import Foundation
import Logging
import Synchronization
import ZeroMQ

/// Takes checkpoints of the handlers' states and compacts the journal, on a writer of its
/// own so that the pipeline does not stop for them: the pipeline hands it a snapshot (values,
/// copied cheaply) and goes on; the writer encodes and saves it, then compacts if due. One is
/// in flight at a time; the pipeline takes in the result on its own thread (``absorb()``).
///
/// The writer is a thread at a lower priority (``Writer``): a checkpoint is work that may
/// wait, events are not.
final class Checkpointer {
    private let journal: any Journal
    private let retention: Int64
    private let logger: Logger
    private let writer: Writer
    private let outcome = Outcome()
    private var inFlight = false
    /// The position of the last checkpoint saved.
    private(set) var lastPosition: Int64
    private var lastTime = Date()
    /// After a checkpoint that failed or was postponed, none is due before this: one due by its
    /// entries would otherwise be tried at every batch, each waiting for the output thread to
    /// catch up and — after a failed write — taking every subject again.
    private var retryAt: Date?

    /// The writer's last result, handed to the pipeline thread.
    private final class Outcome: Sendable {
        private let result = Mutex<Result<Saved, any Error>?>(nil)
        func set(_ r: Result<Saved, any Error>) { result.withLock { $0 = r } }
        func take() -> Result<Saved, any Error>? { result.withLock { r in defer { r = nil }; return r } }
    }

    /// A checkpoint saved, and how far compaction deleted the journal with it (if it did).
    struct Saved: Sendable {
        /// Its ``JournalCheckpoint/reference``: where it is, not what it holds.
        var checkpoint: JournalCheckpoint
        var compactedThrough: Int64?
    }

    init(journal: any Journal, retention: Int64, lastPosition: Int64, logger: Logger) {
        self.journal = journal
        self.retention = retention
        self.lastPosition = lastPosition
        self.logger = logger
        writer = Writer(lowerPriority: !journal.checkpointsBlockAppends, logger: logger)
    }

    /// True when a checkpoint is due at `position`: `every` entries or `interval` ms since the
    /// last, and not while one that was not saved waits (``notSaved(intervalMilliseconds:)``).
    func isDue(at position: Int64, every: Int, intervalMilliseconds: Int) -> Bool {
        if let retryAt, Date() < retryAt { return false }
        return position - lastPosition >= Int64(every)
            || (position > lastPosition && Date().timeIntervalSince(lastTime) * 1000 >= Double(intervalMilliseconds))
    }

    /// Starts a checkpoint at `position` from `snapshot` (encoded and saved on the writer),
    /// unless one is in flight or nothing changed; with `wait`, saves it before returning.
    func save(at position: Int64, wait: Bool, snapshot: () throws -> @Sendable () throws -> JournalCheckpoint) throws {
        lastTime = Date()
        guard position > lastPosition, !inFlight else { return }
        let states = try snapshot()
        let (journal, retention, logger) = (self.journal, self.retention, self.logger)
        let write: @Sendable () throws -> Saved = {
            let started = DispatchTime.now().uptimeNanoseconds
            let cpuStarted = Self.threadCPUNanoseconds()
            let checkpoint = try states()
            let encoded = DispatchTime.now().uptimeNanoseconds
            try journal.saveCheckpoint(checkpoint)
            let ended = DispatchTime.now().uptimeNanoseconds
            logger.info(
                "checkpoint saved",
                metadata: [
                    "position": "\(checkpoint.position)",
                    "bytes": "\(checkpoint.bytes.values.reduce(0, +))",
                    // What makes it large: the three largest parts (a handler, _desk, _outputs).
                    "largest": "\(checkpoint.bytes.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) \($0.value)" }.joined(separator: ", "))",
                    "subjects.written": "\(checkpoint.subjects.values.reduce(0) { $0 + $1.count })",
                    "ms": "\((ended - started) / 1_000_000)",
                    // The part of it spent in the store's transaction, which encodes the subjects'
                    // rows as it writes them, a chunk at a time (with PostgreSQL, on the journal's
                    // connection: appends wait meanwhile; SQLite writes checkpoints to a file of
                    // their own).
                    "write.ms": "\((ended - encoded) / 1_000_000)",
                    // The writer's own CPU time for it: what the checkpoint cost the machine, where
                    // `ms` also counts the time the writer (at a lower priority) waited for a core.
                    "cpu.ms": "\((Self.threadCPUNanoseconds() - cpuStarted) / 1_000_000)",
                ])
            let compacted = try Self.compactIfDue(checkpoint, journal: journal, retention: retention, logger: logger)
            // Its reference only: the states and the subjects taken are freed here, on the
            // writer. Handed to the pipeline, they were freed there, as it took the result in —
            // the maps kept as they were hold every node the pipeline has copied since, and
            // freeing them held the pipeline hundreds of ms in the alert workload
            // (BENCHMARKS.md, 2026-12-07).
            return Saved(checkpoint: checkpoint.reference, compactedThrough: compacted)
        }
        inFlight = true
        if wait {
            outcome.set(Result { try write() })
        } else {
            let outcome = self.outcome
            writer.submit { outcome.set(Result { try write() }) }
        }
    }

    /// The CPU time this thread has used.
    private static func threadCPUNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// A checkpoint due was not saved (its write failed, or it was postponed): the next is due
    /// no sooner than the checkpoint interval later, 10 s at most.
    func notSaved(intervalMilliseconds: Int) {
        retryAt = Date().addingTimeInterval(Double(min(intervalMilliseconds, 10_000)) / 1000)
    }

    /// Waits for the checkpoint in flight, if any (at shutdown).
    func drain() { writer.drain() }

    deinit { writer.close() }

    /// The writer's last result, taken in on the pipeline thread: nil while none is new.
    func absorb() -> Result<Saved, any Error>? {
        guard let result = outcome.take() else { return nil }
        inFlight = false
        if case .success(let saved) = result { (lastPosition, retryAt) = (saved.checkpoint.position, nil) }
        return result
    }

    /// Retention: the first checkpoint after a compaction waits as the candidate; once it is
    /// older than the retention, the journal up to it is deleted and it becomes the base.
    /// Returns the position the journal was deleted through, if it was.
    private static func compactIfDue(_ checkpoint: JournalCheckpoint, journal: any Journal, retention: Int64, logger: Logger) throws
        -> Int64?
    {
        guard retention > 0 else { return nil }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        guard let candidate = try journal.retained(.candidate) else {
            try journal.saveCandidate(checkpoint, createdAt: now)
            return nil
        }
        guard now - candidate.createdAt >= retention else { return nil }
        let deleted = try journal.compactToCandidate()
        logger.info("journal compacted", metadata: ["deleted": "\(deleted)", "base.position": "\(candidate.position)"])
        try journal.saveCandidate(checkpoint, createdAt: now)
        return candidate.position
    }
}

extension Checkpointer {
    /// The checkpoint writer's thread, `pw-checkpoint`, 10 steps of nice below the daemon
    /// (Linux: a thread's own): when the two cores are contended — the pipeline, ingest, the
    /// output thread and a producer on the same host — the scheduler gives it about a tenth of
    /// a core and the rest to the events, instead of half. A first checkpoint of a million
    /// classes is some twenty seconds of encoding and writing, which otherwise took half the
    /// events' rate meanwhile (BENCHMARKS.md, flat cost). With a core idle it runs at full
    /// speed. Not with PostgreSQL, whose checkpoint holds the connection appends wait for (the
    /// pipeline would wait on a thread the scheduler holds back). Compaction runs here too and
    /// holds SQLite's journal lock while it deletes; while the pipeline waits on it, the
    /// daemon's other threads are idle, so only other processes on the host compete with it.
    /// A thread of its own, not a dispatch queue's: raising a pool thread's priority back
    /// would need CAP_SYS_NICE; and nothing on its path makes threads (they would inherit it).
    final class Writer: Sendable {
        static let niceness: Int32 = 10
        /// One checkpoint at a time: the checkpointer never submits while one is in flight.
        private let jobs = BoundedQueue<@Sendable () -> Void>(capacity: 1)
        private let inFlight = DispatchGroup()

        init(lowerPriority: Bool, logger: Logger) {
            let jobs = self.jobs
            let thread = Thread {
                // Before the name: a thread seen named is at its priority already.
                if lowerPriority { Self.lowerThisThreadsPriority(logger: logger) }
                nameThisThread("pw-checkpoint")
                // A finite deadline: Foundation's NSCondition traps on `.distantFuture`.
                while let next = jobs.pop(max: 1, until: Date().addingTimeInterval(60)) { next.forEach { $0() } }
            }
            thread.start()
        }

        private static func lowerThisThreadsPriority(logger: Logger) {
            #if os(Linux)
                // Who 0 is the calling thread on Linux (nice is per thread there).
                let which = __priority_which_t(PRIO_PROCESS.rawValue)
                errno = 0
                let current = getpriority(which, 0)
                guard errno == 0, setpriority(which, 0, min(current + niceness, 19)) == 0 else {
                    logger.notice("checkpoint writer left at the daemon's priority", metadata: ["errno": "\(errno)"])
                    return
                }
            #endif
        }

        /// Runs `body` on the writer.
        func submit(_ body: @escaping @Sendable () -> Void) {
            let inFlight = self.inFlight
            inFlight.enter()
            if !jobs.put({ body(); inFlight.leave() }) { inFlight.leave() }
        }

        /// Waits until what was submitted has run.
        func drain() { inFlight.wait() }

        /// Ends the thread once what was submitted has run.
        func close() { jobs.close() }
    }
}
