import Synchronization
import Testing

@testable import PlanWatchRuntime

/// The parts of a checkpoint are restored side by side (``RestoreJob``): every part exactly
/// once, whatever their number against the cores, and all of them before the call returns —
/// the replay that follows needs every part whole.
@Suite struct RestoreJobTests {
    @Test(arguments: [0, 1, 2, 3, 40])
    func everyJobRunsOnceAndAllBeforeItReturns(count: Int) {
        let runs = Mutex([Int](repeating: 0, count: count))
        let jobs = (0..<count).map { index in
            RestoreJob(size: index % 7) { runs.withLock { $0[index] += 1 } }
        }
        try? RestoreJob.runSideBySide(jobs)
        #expect(runs.withLock { $0 } == [Int](repeating: 1, count: count))
    }

    /// A part that cannot be read (the journal's event keys, say) stops the start — after
    /// every other part ran, so that nothing is left half-built on another thread.
    @Test func aJobThatThrowsIsThrownOnceAllHaveRun() {
        struct Unreadable: Error {}
        let runs = Mutex(0)
        var jobs = (0..<10).map { _ in RestoreJob(size: 1) { runs.withLock { $0 += 1 } } }
        jobs.insert(RestoreJob(size: 2) { throw Unreadable() }, at: 3)
        #expect(throws: Unreadable.self) { try RestoreJob.runSideBySide(jobs) }
        #expect(runs.withLock { $0 } == 10)
    }
}
