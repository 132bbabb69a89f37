import Logging
import Synchronization
import Testing

@testable import PlanWatchRuntime

/// What an operator reads while a write is retried again and again and keeps failing: a line
/// when it starts, one a minute while it lasts (with how many failed since the last), one
/// for each new cause, one when it passes again — whatever the rate of batches.
@Suite struct RepeatingFailureLogTests {
    struct Refused: Error, CustomStringConvertible { var description: String }

    /// A clock the test moves, in seconds.
    final class Clock: Sendable {
        let seconds = Mutex<UInt64>(0)
        func advance(_ by: UInt64) { seconds.withLock { $0 += by } }
        var now: () -> UInt64 { { self.seconds.withLock { $0 } * 1_000_000_000 } }
    }

    /// Each line as "message [failures] [error]".
    func lines(_ log: CheckpointLog) -> [String] {
        log.lines.withLock {
            $0.map { line in ([line.message] + [line.metadata["failures"], line.metadata["error"]].compactMap { $0 }).joined(separator: " | ") }
        }
    }

    @Test func aFailureRetriedEveryBatchIsSaidOnceThenOnceAMinuteAndItsEndOnce() {
        let (log, clock) = (CheckpointLog(), Clock())
        var failures = RepeatingFailureLog("alert history write", now: clock.now)
        // 100 batches a second for 150 s.
        for _ in 0..<150 {
            for _ in 0..<100 { failures.failed(Refused(description: "disk full"), logger: log.logger) }
            clock.advance(1)
        }
        failures.passed(logger: log.logger)
        failures.passed(logger: log.logger)
        #expect(
            lines(log) == [
                "alert history write failed; will retry | disk full",
                "alert history write still failing | 6000 | disk full",
                "alert history write still failing | 6000 | disk full",
                "alert history write succeeded again | 15000",
            ])
        // Days later, a new run of failures starts with a first line of its own.
        clock.advance(172_800)
        failures.failed(Refused(description: "disk full"), logger: log.logger)
        #expect(lines(log).last == "alert history write failed; will retry | disk full")
    }

    @Test func aNewCauseIsSaidAtOnce() {
        let (log, clock) = (CheckpointLog(), Clock())
        var failures = RepeatingFailureLog("checkpoint", now: clock.now)
        for _ in 0..<10 { failures.failed(Refused(description: "alert history not written; checkpoint postponed"), logger: log.logger) }
        failures.failed(Refused(description: "database or disk is full"), logger: log.logger)
        failures.failed(Refused(description: "database or disk is full"), logger: log.logger)
        #expect(
            lines(log) == [
                "checkpoint failed; will retry | alert history not written; checkpoint postponed",
                "checkpoint still failing | 10 | database or disk is full",
            ])
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
        #expect(
            lines(log) == [
                "journal write failed; batch not recorded | busy",
                "journal write succeeded again | 1",
                "journal write failed; batch not recorded | 60 | busy",
                "journal write succeeded again | 1",
            ])
    }

    /// An error whose text differs every time (a server's detail in it) is not a new cause
    /// every time: a few a minute at most.
    @Test func causesThatNeverRepeatAreSaidAFewTimesAMinuteAtMost() {
        let (log, clock) = (CheckpointLog(), Clock())
        var failures = RepeatingFailureLog("journal write", now: clock.now)
        for i in 0..<1000 { failures.failed(Refused(description: "server detail \(i)"), logger: log.logger) }
        #expect(lines(log).count == RepeatingFailureLog.causesKept)
    }
}
