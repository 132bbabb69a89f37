import Foundation
import Synchronization

/// One part of the state restored from a checkpoint at start: a handler's state, the alert
/// desk's, the output store's, the dedupe window. Restoring means decoding each subject's row
/// and building its map — at a city's size (1.68 M subjects) the longest part of a restart,
/// and all of it on one core while the other waited. The parts are independent (each job
/// touches its own part's state and nothing another job touches), so they run side by side,
/// the largest first.
struct RestoreJob {
    /// How much there is to restore (an estimate, see ``size(of:in:)``): the largest start
    /// first, so that the smaller ones fill the other core meanwhile.
    let size: Int
    let run: () throws -> Void

    init(size: Int, _ run: @escaping () throws -> Void) {
        self.size = size
        self.run = run
    }

    /// The size of `name`'s part of `checkpoint`: its state's bytes and its subjects (a row
    /// counted as a few hundred bytes, without reading them).
    static func size(of name: String, in checkpoint: JournalCheckpoint) -> Int {
        (checkpoint.states[name]?.count ?? 0) + 256 * (checkpoint.subjects[name]?.count ?? 0)
    }

    /// Runs every job, on as many threads as there are cores, and returns when all are done;
    /// then throws the first error a job threw, if one did.
    static func runSideBySide(_ jobs: [RestoreJob]) throws {
        guard jobs.count > 1 else { return try jobs.forEach { try $0.run() } }
        let queue = Queue(jobs.sorted { $0.size > $1.size })
        DispatchQueue.concurrentPerform(iterations: min(jobs.count, ProcessInfo.processInfo.activeProcessorCount)) { _ in
            while let job = queue.next() {
                do { try job.run() } catch { queue.failed(error) }
            }
        }
        if let error = queue.error { throw error }
    }

    /// The jobs, handed out one at a time. Unchecked: each job is run by exactly one thread,
    /// and the jobs share no mutable state (see ``RestoreJob``); `error` is behind its mutex.
    private final class Queue: @unchecked Sendable {
        private let jobs: [RestoreJob]
        private let taken = Atomic<Int>(0)
        private let firstError = Mutex<(any Error)?>(nil)
        init(_ jobs: [RestoreJob]) { self.jobs = jobs }
        func next() -> RestoreJob? {
            let index = taken.wrappingAdd(1, ordering: .relaxed).oldValue
            return index < jobs.count ? jobs[index] : nil
        }
        func failed(_ error: any Error) { firstError.withLock { $0 = $0 ?? error } }
        var error: (any Error)? { firstError.withLock { $0 } }
    }
}
