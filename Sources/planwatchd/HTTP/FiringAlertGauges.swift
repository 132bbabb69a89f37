import Metrics
import PlanWatchModel
import PlanWatchRuntime
import Synchronization

/// `planwatch_alerts_firing{level, domain}`, set from the output store at each scrape.
enum FiringAlertGauges {
    private static let gauges = Mutex<[String: Gauge]>([:])

    static func fields(_ entry: OutputStore.Entry) -> (level: String, domain: String, region: String) {
        if let level = entry.level, let domain = entry.domain, let region = entry.region { return (level, domain, region) }
        // Entries restored from a checkpoint written before these were kept.
        guard case .object(let o)? = try? JSONParser.parse(Array(entry.body.utf8)) else { return ("", "", "") }
        func s(_ k: String) -> String { if case .string(let v)? = o[k] { v } else { "" } }
        let rule = s("rule")
        return (s("level"), String(rule.prefix(while: { $0 != "." })), s("region"))
    }

    static func matches(_ entry: OutputStore.Entry, level: String?, domain: String?, region: String?) -> Bool {
        let f = fields(entry)
        return (level.map { $0 == f.level } ?? true) && (domain.map { $0 == f.domain } ?? true)
            && (region.map { f.region.hasPrefix($0.hasSuffix("00") ? String($0.prefix(4)) : $0) } ?? true)
    }

    /// Sets the gauges from the store's running counts: a scrape costs the same with ten or
    /// a hundred thousand alerts firing.
    static func update(from store: OutputStore) {
        var counts: [String: Int] = [:]
        for c in store.firingCounts { counts["\(c.level)|\(c.domain)"] = c.count }
        gauges.withLock { gauges in
            for key in Set(gauges.keys).union(counts.keys) {
                let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                let gauge = gauges[key] ?? Gauge(label: "planwatch_alerts_firing", dimensions: [("level", parts[0]), ("domain", parts[1])])
                gauges[key] = gauge
                gauge.record(counts[key] ?? 0)
            }
        }
    }
}
