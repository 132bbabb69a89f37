import Metrics
import PlanWatchRuntime
import Synchronization

/// `planwatch_alerts_firing{level, domain}`, set from the output store at each scrape.
enum FiringAlertGauges {
    private static let gauges = Mutex<[String: Gauge]>([:])

    static func matches(_ entry: OutputStore.Entry, level: String?, domain: String?, region: String?) -> Bool {
        (level.map { $0 == entry.level } ?? true) && (domain.map { $0 == entry.domain } ?? true)
            && (region.map { (entry.region ?? "").hasPrefix($0.hasSuffix("00") ? String($0.prefix(4)) : $0) } ?? true)
    }

    /// Sets the gauges from the store's running counts (a level and domain that fired once
    /// stays at 0): a scrape costs the same with ten or a hundred thousand alerts firing.
    static func update(from store: OutputStore) {
        gauges.withLock { gauges in
            for c in store.firingCounts {
                let key = "\(c.level)|\(c.domain)"
                let gauge = gauges[key] ?? Gauge(label: "planwatch_alerts_firing", dimensions: [("level", c.level), ("domain", c.domain)])
                gauges[key] = gauge
                gauge.record(c.count)
            }
        }
    }
}
