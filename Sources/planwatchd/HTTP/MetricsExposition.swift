import Foundation
import HandlerPluginABI
import HandlerKit
import Metrics
import PlanWatchModel
import PlanWatchRuntime
import Prometheus
import Synchronization

/// What `/metrics` serves beyond what the runtime counts: HELP text for every family, the
/// process's own figures, the build, and the plans' indicators as gauges.
enum MetricsExposition {
    /// HELP text per family. swift-prometheus takes HELP only through its own API, which
    /// traps if two callers disagree, so it is added here to the text once, at each scrape.
    static let help: [String: String] = [
        "planwatch_events_received_total": "Events accepted and journaled, by type.",
        "planwatch_events_rejected_total": "Events refused (each also a dead letter), by reason.",
        "planwatch_events_duplicate_total": "Events whose (source, id) was already journaled: changed nothing.",
        "planwatch_published_total": "Alerts, indicator updates and dead letters published.",
        "planwatch_journal_write_failures_total":
            "Batches the journal could not record (acknowledged producers were told busy), and attempts to ask PostgreSQL whether a batch in doubt landed that found it out of reach.",
        "planwatch_alert_history_write_failures_total":
            "Attempts to write alert changes to the audit trail that failed (retried with each batch; alerts are published meanwhile).",
        "planwatch_checkpoint_failures_total":
            "Checkpoints due that were not saved: postponed (the audit trail or the output socket behind) or failed to write.",
        "planwatch_checkpoints_saved_total": "Checkpoints saved (one a minute or every pipeline.checkpointEvery entries while active).",
        "planwatch_checkpoint_backlog_entries":
            "Journal entries after the last checkpoint saved: what a restart after a crash replays.",
        "planwatch_journal_commit_seconds": "Time to commit one batch to the journal.",
        "planwatch_batch_size": "Events per journal batch.",
        "planwatch_ingest_lag_seconds": "Age of the oldest event of the last batch when it was journaled; 0 when idle.",
        "planwatch_handler_duration_seconds": "Time one handler took for one event or tick.",
        "planwatch_handler_failures_total": "Events a handler threw or trapped on (its state left as before), by handler.",
        "planwatch_busy_replies_total": "Acknowledged events answered busy (queue full): the producer resends.",
        "planwatch_snapshot_busy_total": "Snapshot requests answered busy.",
        "planwatch_snapshot_requests_dropped_total": "Snapshot requests dropped past the per-peer or total limit.",
        "planwatch_zap_denied_total": "CURVE handshakes refused (unknown key).",
        "planwatch_publish_subscriber_drops_total": "Outputs a slow subscriber missed (its queue was full).",
        "planwatch_alerts_firing": "Alerts firing now, by level and domain.",
        "planwatch_alertmanager_alerts_sent_total": "Alerts Alertmanager accepted, per Alertmanager.",
        "planwatch_alertmanager_errors_total": "Requests to Alertmanager that failed (refused, timed out, unreachable).",
        "planwatch_alertmanager_alerts_dropped_total": "Alerts dropped because the bridge's queue was full.",
        "planwatch_alertmanager_queue_length": "Alerts waiting to be sent to Alertmanager.",
        "planwatch_alertmanager_resyncs_total": "Times the bridge read the firing alerts again because a burst of changes overran what it follows.",
        "planwatch_indicator_value": "A plan indicator's value (a share as a fraction, a count as a number).",
        "planwatch_indicator_target": "The value the plan sets for the indicator.",
        "planwatch_indicator_status": "1 for the indicator's verdict against its plan (met, onTrack, atRisk, offTrack), 0 for the others.",
        "planwatch_build_info": "1, with the version of planwatchd and of its HandlerKit (plugin ABI).",
        "process_start_time_seconds": "Start time of the process since the Unix epoch, in seconds.",
        "process_cpu_seconds_total": "User and system CPU time spent, in seconds.",
        "process_resident_memory_bytes": "Resident memory size, in bytes.",
        "process_virtual_memory_bytes": "Virtual memory size, in bytes.",
        "process_open_fds": "Open file descriptors.",
        "process_max_fds": "Maximum number of open file descriptors.",
    ]

    /// The registry's text with a `# HELP` line before each family's `# TYPE` line.
    static func withHelp(_ bytes: [UInt8]) -> String {
        var out = ""
        out.reserveCapacity(bytes.count + 4096)
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                if let text = help[String(name)] { out += "# HELP \(name) \(text)\n" }
            }
            out += line
            out += "\n"
        }
        while out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }

    /// Buckets that fit what each histogram measures (the default's smallest is 5 ms: every
    /// handler call fell in it).
    static func configure(_ factory: inout PrometheusMetricsFactory) {
        factory.durationHistogramBuckets = [
            "planwatch_handler_duration_seconds": [
                .microseconds(5), .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50),
            ],
            "planwatch_journal_commit_seconds": [
                .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
            ],
        ]
        factory.valueHistogramBuckets = ["planwatch_batch_size": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]]
    }

    /// `planwatch_build_info` and the process figures, made once at start.
    static func start() {
        Metrics.Gauge(label: "planwatch_build_info", dimensions: [("version", PlanWatchVersion.current), ("handlerkit", HandlerKitPlugin.versionString)]).record(1)
        ProcessFigures.shared.update()
    }

    /// Refreshed at each scrape.
    static func update(from store: OutputStore) {
        ProcessFigures.shared.update()
        IndicatorGauges.update(from: store)
    }
}

/// The process_* figures Prometheus' client libraries export, from /proc.
final class ProcessFigures: Sendable {
    static let shared = ProcessFigures()
    private let start = Metrics.Gauge(label: "process_start_time_seconds")
    private let resident = Metrics.Gauge(label: "process_resident_memory_bytes")
    private let virtual = Metrics.Gauge(label: "process_virtual_memory_bytes")
    private let openFDs = Metrics.Gauge(label: "process_open_fds")
    private let maxFDs = Metrics.Gauge(label: "process_max_fds")
    private let cpu = FloatingPointCounter(label: "process_cpu_seconds_total")
    private let cpuSeen = Mutex<Double>(0)

    private init() {
        // Start: the boot time plus the process's start tick (field 22 of /proc/self/stat).
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = Self.stat(), stat.count > 21, let startTicks = Double(stat[21]), let boot = Self.bootTime() {
            start.record(boot + startTicks / ticks)
        } else {
            start.record(Date().timeIntervalSince1970)
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFDs.record(Double(limit.rlim_cur)) }
    }

    func update() {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = Self.stat(), stat.count > 23 {
            if let user = Double(stat[13]), let system = Double(stat[14]) {
                let total = (user + system) / ticks
                cpuSeen.withLock { seen in
                    if total > seen { cpu.increment(by: total - seen) }
                    seen = max(seen, total)
                }
            }
            if let vsize = Double(stat[22]) { virtual.record(vsize) }
            if let rss = Double(stat[23]) { resident.record(rss * Double(sysconf(Int32(_SC_PAGESIZE)))) }
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") { openFDs.record(fds.count) }
    }

    /// /proc/self/stat's fields, the command name (which may hold spaces) as one.
    private static func stat() -> [String]? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else {
            return nil
        }
        let head = text[..<text.index(after: close)].split(separator: " ", maxSplits: 1).map(String.init)
        return head + text[text.index(after: close)...].split(separator: " ").map(String.init)
    }

    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") { return Double(line.dropFirst(6)) }
        return nil
    }
}

/// `planwatch_indicator_value`, `_target` and `_status{status}` per indicator and region (the
/// district and city values the daemon publishes: a bounded set), from the output store.
enum IndicatorGauges {
    private struct Series {
        var value: Metrics.Gauge
        var target: Metrics.Gauge
        var status: [String: Metrics.Gauge]
    }

    private static let series = Mutex<[String: Series]>([:])
    static let statuses = ["met", "onTrack", "atRisk", "offTrack"]

    static func update(from store: OutputStore) {
        let entries = store.indicators
        series.withLock { series in
            for entry in entries {
                guard let update = entry.indicator else { continue }
                let (indicator, region) = (update.indicator, update.region.code)
                let key = indicator + "|" + region
                let dims = [("indicator", indicator), ("region", region)]
                let s =
                    series[key]
                    ?? Series(
                        value: Metrics.Gauge(label: "planwatch_indicator_value", dimensions: dims),
                        target: Metrics.Gauge(label: "planwatch_indicator_target", dimensions: dims),
                        status: Dictionary(
                            uniqueKeysWithValues: statuses.map { ($0, Metrics.Gauge(label: "planwatch_indicator_status", dimensions: dims + [("status", $0)])) }))
                series[key] = s
                if let v = update.value { s.value.record(v) }
                if let goal = update.target?.value { s.target.record(goal) }
                let status = update.status?.rawValue
                for (name, gauge) in s.status { gauge.record(name == status ? 1 : 0) }
            }
        }
    }
}
