import Dispatch
import Logging

/// Logs a failure that is retried with every batch (the journal's write, the audit trail's,
/// a checkpoint) without flooding the log: a failing audit trail retried with each batch of a
/// busy daemon used to log hundreds of identical errors a second.
///
/// - The first failure is logged at error level, and so is each new cause (an error whose
///   text was not seen since the failures began): a disk that fills while checkpoints are
///   postponed for another reason is said at once.
/// - While it goes on, `… still failing` with the count, at most once a minute.
/// - The first attempt that passes again is logged at notice, if its failure was.
/// - Episodes that come and go faster than that (fail, pass, fail, …) share the minute: at
///   most one failure line and one recovery line a minute, the count in the next.
struct RepeatingFailureLog {
    /// What failed, as the log says it: "alert history write", "checkpoint".
    let what: String
    /// The first failure's line: "… failed; will retry" unless said otherwise.
    private let firstLine: String
    private let interval: UInt64
    private let now: () -> UInt64
    /// Attempts failed since the last that passed.
    private(set) var failures = 0
    /// Attempts failed that no line has counted yet (across episodes).
    private var unsaid = 0
    private var causes: Set<String> = []
    private var episodeSaid = false
    private var lastLogged: UInt64?

    init(
        _ what: String, firstLine: String? = nil, every interval: UInt64 = 60_000_000_000,
        now: @escaping () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    ) {
        self.what = what
        self.firstLine = firstLine ?? "\(what) failed; will retry"
        self.interval = interval
        self.now = now
    }

    private func due(at time: UInt64) -> Bool { lastLogged.map { time &- $0 >= interval } ?? true }

    mutating func failed(_ error: any Error, logger: Logger, metadata: @autoclosure () -> Logger.Metadata = [:]) {
        failures += 1
        unsaid += 1
        let time = now()
        let cause = "\(error)"
        let newCause = causes.insert(cause).inserted
        guard due(at: time) || (newCause && episodeSaid) else { return }
        var metadata = metadata()
        metadata["error"] = "\(cause)"
        if episodeSaid || unsaid > 1 {
            metadata["failures"] = "\(unsaid)"
            logger.error("\(what) still failing", metadata: metadata)
        } else {
            logger.error("\(firstLine)", metadata: metadata)
        }
        (unsaid, episodeSaid, lastLogged) = (0, true, time)
    }

    /// An attempt passed: says so if its failure was said.
    mutating func passed(logger: Logger, metadata: @autoclosure () -> Logger.Metadata = [:]) {
        guard failures > 0 else { return }
        if episodeSaid {
            var metadata = metadata()
            metadata["failures"] = "\(failures)"
            logger.notice("\(what) succeeded again", metadata: metadata)
        }
        (failures, episodeSaid) = (0, false)
        causes.removeAll()
    }
}
