import Dispatch
import Logging

/// Logs a failure that is retried again and again (the journal's write and the audit trail's
/// with every batch, a checkpoint whenever one is due) without flooding the log: a failing
/// audit trail retried with each batch of a busy daemon used to log hundreds of identical
/// errors a second.
///
/// - The first failure is logged at error level; so is a cause not said in the last minute
///   (a disk that fills while checkpoints are postponed for another reason is said at once).
/// - While it goes on, `… still failing` at most once a minute, with `failures`: how many
///   failed since the last line.
/// - When an attempt passes again, `… succeeded again` (notice) with `failures`: how many
///   failed in a row — if their failure was said.
/// - Failures that come and go faster than that (fail, pass, fail, …) share the minute: at
///   most one failure line and one recovery line a minute; the failure line counts the ones
///   not said.
struct RepeatingFailureLog {
    /// What failed, as the log says it: "alert history write", "checkpoint".
    let what: String
    /// The first failure's line: "… failed; will retry" unless said otherwise.
    private let firstLine: String
    private let interval: UInt64
    private let now: () -> UInt64
    /// Attempts failed in a row, up to now.
    private var failures = 0
    /// Attempts failed since the last line that counted them (across failures not said).
    private var unsaid = 0
    /// Whether the current run of failures was said (so that its end is).
    private var said = false
    /// Causes said in the last interval, and when; a few at most.
    private var causes: [String: UInt64] = [:]
    private var lastLogged: UInt64?
    static let causesKept = 8

    init(
        _ what: String, firstLine: String? = nil, every interval: UInt64 = 60_000_000_000,
        now: @escaping () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    ) {
        self.what = what
        self.firstLine = firstLine ?? "\(what) failed; will retry"
        self.interval = interval
        self.now = now
    }

    mutating func failed(_ error: any Error, logger: Logger, metadata: @autoclosure () -> Logger.Metadata = [:]) {
        failures += 1
        unsaid += 1
        let time = now()
        let cause = "\(error)"
        let due = lastLogged.map { time &- $0 >= interval } ?? true
        if !due {
            causes = causes.filter { time &- $0.value < interval }
            guard causes[cause] == nil, causes.count < Self.causesKept else { return }
        }
        var metadata = metadata()
        metadata["error"] = .string(cause)
        if unsaid > 1 { metadata["failures"] = "\(unsaid)" }
        logger.error("\(said ? "\(what) still failing" : firstLine)", metadata: metadata)
        (unsaid, said, lastLogged) = (0, true, time)
        causes[cause] = time
    }

    /// An attempt passed: says so if the failures before it were said.
    mutating func passed(logger: Logger, metadata: @autoclosure () -> Logger.Metadata = [:]) {
        guard failures > 0 else { return }
        if said {
            var metadata = metadata()
            metadata["failures"] = "\(failures)"
            logger.notice("\(what) succeeded again", metadata: metadata)
            unsaid = 0
        }
        (failures, said) = (0, false)
    }
}
