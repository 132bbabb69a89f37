import Dispatch
import Metrics
import PlanWatchModel

/// The runtime's metrics (swift-metrics; the daemon bootstraps Prometheus). Metric objects
/// are made once per fixed set of dimensions — types, reasons and handlers are bounded
/// sets — never per event. Used by the pipeline thread (`published` by the output thread).
final class RuntimeMetrics {
    let batchSize = Recorder(label: "planwatch_batch_size", aggregate: true)
    let commit = Timer(label: "planwatch_journal_commit_seconds")
    let lag = Gauge(label: "planwatch_ingest_lag_seconds")
    let duplicates = Counter(label: "planwatch_events_duplicate_total")
    let published = Counter(label: "planwatch_published_total")
    let historyFailures = Counter(label: "planwatch_alert_history_write_failures_total")
    let checkpointFailures = Counter(label: "planwatch_checkpoint_failures_total")
    let checkpointsSaved = Counter(label: "planwatch_checkpoints_saved_total")
    /// Journal entries after the last checkpoint saved: what a restart after a crash replays.
    let checkpointBacklog = Gauge(label: "planwatch_checkpoint_backlog_entries")
    private var received: [String: Counter] = [:]
    private var rejected: [String: Counter] = [:]
    private var handlerTimers: [String: Timer] = [:]
    private var handlerFailures: [String: Counter] = [:]

    /// Makes every series that can appear, at 0, so that a rate or an alert on it works
    /// from the first scrape (a counter that appears only when it first moves hides that move).
    func prepare(types: [String], handlers: [String]) {
        for type in types { _ = receivedCounter(type) }
        for reason in RejectionReason.allCases { _ = rejectedCounter(reason.rawValue) }
        for handler in handlers { _ = failuresCounter(handler) }
        for counter in [duplicates, published, Self.journalFailures, historyFailures, checkpointFailures, checkpointsSaved] + Array(received.values) + Array(rejected.values)
            + Array(handlerFailures.values) + IngestMetrics.all
        {
            counter.increment(by: 0)
        }
        lag.record(0)
    }

    private static let journalFailures = Counter(label: "planwatch_journal_write_failures_total")

    /// A journal write that failed — a batch refused, or an attempt to ask PostgreSQL whether
    /// a batch in doubt landed that found it out of reach (``JournalStore/open``'s `inDoubt`):
    /// counted, and the daemon not ready until a write succeeds.
    static func journalWriteFailed(_ stats: RuntimeStats) {
        journalFailures.increment()
        stats.journalWrite(succeeded: false)
    }

    func received(type: String) { receivedCounter(type).increment() }

    func rejected(reason: String) { rejectedCounter(reason).increment() }

    func handlerDuration(_ handler: String, nanoseconds: UInt64) {
        Self.series(&handlerTimers, handler) { Timer(label: "planwatch_handler_duration_seconds", dimensions: [("handler", handler)]) }
            .recordNanoseconds(Int64(truncatingIfNeeded: nanoseconds))
    }

    func handlerFailed(_ handler: String) { failuresCounter(handler).increment() }

    private func receivedCounter(_ type: String) -> Counter {
        Self.series(&received, type) { Counter(label: "planwatch_events_received_total", dimensions: [("type", type)]) }
    }

    private func rejectedCounter(_ reason: String) -> Counter {
        Self.series(&rejected, reason) { Counter(label: "planwatch_events_rejected_total", dimensions: [("reason", reason)]) }
    }

    private func failuresCounter(_ handler: String) -> Counter {
        Self.series(&handlerFailures, handler) { Counter(label: "planwatch_handler_failures_total", dimensions: [("handler", handler)]) }
    }

    /// The series for `key`, made the first time: one lookup per event (these run for every
    /// event, and every handler that takes it).
    private static func series<Series>(_ table: inout [String: Series], _ key: String, make: () -> Series) -> Series {
        if let known = table[key] { return known }
        let made = make()
        table[key] = made
        return made
    }
}

/// Counters updated from the ingest and ZAP threads (swift-metrics objects are thread-safe).
enum IngestMetrics {
    static let busy = Counter(label: "planwatch_busy_replies_total")
    static let snapshotBusy = Counter(label: "planwatch_snapshot_busy_total")
    static let snapshotDropped = Counter(label: "planwatch_snapshot_requests_dropped_total")
    static let zapDenied = Counter(label: "planwatch_zap_denied_total")
    static var all: [Counter] { [busy, snapshotBusy, snapshotDropped, zapDenied] }
}
