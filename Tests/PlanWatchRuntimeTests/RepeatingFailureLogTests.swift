import Logging
import Synchronization
import Testing

@testable import PlanWatchRuntime

/// What an operator reads while a write is retried with every batch and keeps failing: a
/// line when it starts, one a minute while it lasts (with the count), one for each new cause,
/// one when it passes again — whatever the rate of batches.
@Suite struct RepeatingFailureLogTests {
    struct Refused: Error, CustomStringConvertible { var description: String }

    /// A clock the test moves, in seconds.
    final class Clock: Sendable {
        let seconds = Mutex<UInt64>(0)
        func advance(_ by: UInt64) { seconds.withLock { $0 += by } }
        var now: () -> UInt64 { { self.seconds.withLock { $0 } * 1_000_000_000 } }
    }

    func lines(_ log: CheckpointLog) -> [String] { log.lines.withLock { $0.map(\.message) } }

    @Test func aFailureRetriedEveryBatchIsSaidOnceThenOnceAMinuteAndItsEndOnce() {
        let (log, clock) = (CheckpointLog(), Clock())
        var failures = RepeatingFailureLog("alert history write", now: clock.now)
        // 100 batches a second for 150 s.
        for _ in 0..<150 {
            for _ in 0..<100 { failures.failed(Refused(description: "disk full"), logger: log.logger) }
            clock.advance(1)
        }
        #expect(lines(log) == ["alert history write failed; will retry", "alert history write still failing", "alert history write still failing"])
        failures.passed(logger: log.logger)
        failures.passed(logger: log.logger)
        #expect(lines(log).last == "alert history write succeeded again")
        #expect(lines(log).count == 4)
    }

    @Test func aNewCauseIsSaidAtOnce() {
        let (log, clock) = (CheckpointLog(), Clock())
        var failures = RepeatingFailureLog("checkpoint", now: clock.now)
        for _ in 0..<10 { failures.failed(Refused(description: "alert history not written; checkpoint postponed"), logger: log.logger) }
        failures.failed(Refused(description: "database or disk is full"), logger: log.logger)
        failures.failed(Refused(description: "database or disk is full"), logger: log.logger)
        #expect(lines(log) == ["checkpoint failed; will retry", "checkpoint still failing"])
    }

    @Test func failuresThatComeAndGoShareTheMinute() {
        let (log, clock) = (CheckpointLog(), Clock())
        var failures = RepeatingFailureLog("journal write", firstLine: "journal write failed; batch not recorded", now: clock.now)
        // Fails and passes again every second, for two minutes.
        for _ in 0..<120 {
            failures.failed(Refused(description: "busy"), logger: log.logger)
            failures.passed(logger: log.logger)
            clock.advance(1)
        }
        let said = lines(log)
        #expect(said.first == "journal write failed; batch not recorded")
        #expect(said.count <= 4, "\(said)")
        #expect(said.filter { $0.hasSuffix("succeeded again") }.count == said.count / 2)
    }
}
