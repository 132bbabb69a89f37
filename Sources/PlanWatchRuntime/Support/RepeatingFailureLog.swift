import Dispatch
import Logging

/// Logs a failure that is retried with every batch (the audit trail's write, a checkpoint)
/// without flooding the log: the first failure at error level, then at most once a minute
/// how many attempts have failed since it began, and a notice once an attempt passes again.
/// A failing audit trail retried with each batch of a busy daemon used to log hundreds of
/// identical errors a second.
struct RepeatingFailureLog {
    /// What failed, as the log says it: "alert history write", "checkpoint".
    let what: String
    static let repeatEveryNanoseconds: UInt64 = 60_000_000_000
    /// Attempts failed since the last that passed.
    private(set) var failures = 0
    private var lastLogged: UInt64 = 0

    init(_ what: String) { self.what = what }

    mutating func failed(_ error: any Error, logger: Logger, metadata: Logger.Metadata = [:]) {
        failures += 1
        let now = DispatchTime.now().uptimeNanoseconds
        var metadata = metadata
        metadata["error"] = "\(error)"
        if failures == 1 {
            logger.error("\(what) failed; will retry", metadata: metadata)
        } else if now - lastLogged >= Self.repeatEveryNanoseconds {
            metadata["failures"] = "\(failures)"
            logger.error("\(what) still failing", metadata: metadata)
        } else {
            return
        }
        lastLogged = now
    }

    /// An attempt passed: says so once if attempts had failed before it.
    mutating func passed(logger: Logger, metadata: Logger.Metadata = [:]) {
        guard failures > 0 else { return }
        var metadata = metadata
        metadata["failures"] = "\(failures)"
        logger.notice("\(what) succeeded again", metadata: metadata)
        failures = 0
    }
}
