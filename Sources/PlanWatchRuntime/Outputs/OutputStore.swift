import Foundation
import PlanWatchModel
import Synchronization

/// The daemon's current outputs: each indicator's latest value and each firing alert, with
/// the `seq` they were published with, a short history per indicator, and live followers.
/// The pipeline writes it after every batch; the snapshot socket, the HTTP APIs and the
/// console read it. Kept in the checkpoint, so it survives restarts.
public final class OutputStore: Sendable {
    /// One published message.
    public struct Entry: Sendable, Codable, Equatable {
        public var topic: String
        /// The body, JSON text.
        public var body: String
        public var seq: Int64
        /// For an alert: its level, domain and region, for filters and gauges without parsing.
        public var level: String?
        public var domain: String?
        public var region: String?
    }

    /// A point of an indicator's history.
    public struct Point: Sendable, Codable, Equatable {
        public var asOf: String
        public var value: Double?
    }

    struct State: Codable, Sendable {
        var indicators: [String: Entry] = [:]
        var alerts: [String: Entry] = [:]
        var history: [String: [Point]] = [:]
        var lastSeq: Int64 = 0
        /// Firing alerts by `level|domain`, kept as they change (for the metrics, per scrape).
        var firingCounts: [String: Int] = [:]

        init() {}

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            indicators = try c.decode([String: Entry].self, forKey: .indicators)
            alerts = try c.decode([String: Entry].self, forKey: .alerts)
            history = try c.decode([String: [Point]].self, forKey: .history)
            lastSeq = try c.decode(Int64.self, forKey: .lastSeq)
            firingCounts = try c.decodeIfPresent([String: Int].self, forKey: .firingCounts) ?? [:]
        }
    }

    private let state = Mutex(State())
    private let followers = Mutex<[UUID: AsyncStream<Entry>.Continuation]>([:])
    static let historyLength = 60

    public init() {}

    func apply(_ messages: [OutboundMessage]) {
        guard !messages.isEmpty else { return }
        var published: [Entry] = []
        state.withLock { s in
            for m in messages {
                var entry = Entry(topic: m.topic, body: String(decoding: m.body, as: UTF8.self), seq: m.seq)
                s.lastSeq = max(s.lastSeq, m.seq)
                switch m.meta {
                case .indicator(let value, let asOf):
                    published.append(entry)
                    s.indicators[m.topic] = entry
                    var points = s.history[m.topic] ?? []
                    points.append(Point(asOf: asOf, value: value))
                    if points.count > Self.historyLength { points.removeFirst(points.count - Self.historyLength) }
                    s.history[m.topic] = points
                case .alert(let fingerprint, let firing, let level, let domain, let region):
                    entry.level = level
                    entry.domain = domain
                    entry.region = region
                    published.append(entry)
                    if let old = s.alerts[fingerprint], let oldLevel = old.level, let oldDomain = old.domain {
                        s.firingCounts["\(oldLevel)|\(oldDomain)", default: 1] -= 1
                    }
                    if firing { s.firingCounts["\(level)|\(domain)", default: 0] += 1 }
                    s.alerts[fingerprint] = firing ? entry : nil
                case .deadLetter:
                    published.append(entry)
                }
            }
        }
        let current = followers.withLock { Array($0.values) }
        for continuation in current { for entry in published { continuation.yield(entry) } }
    }

    /// Every current indicator and firing alert whose topic starts with `prefix`, in `seq`
    /// order, and the last `seq` the snapshot includes.
    public func snapshot(prefix: String) -> (entries: [Entry], seq: Int64) {
        state.withLock { s in
            let entries = (Array(s.indicators.values) + Array(s.alerts.values))
                .filter { $0.topic.hasPrefix(prefix) }.sorted { $0.seq < $1.seq }
            return (entries, s.lastSeq)
        }
    }

    /// How many alerts fire, by level and domain (restored stores count again on first use).
    public var firingCounts: [(level: String, domain: String, count: Int)] {
        state.withLock { s in
            if s.firingCounts.isEmpty && !s.alerts.isEmpty {
                // A store restored from a checkpoint written before counts were kept.
                for entry in s.alerts.values {
                    if let level = entry.level, let domain = entry.domain { s.firingCounts["\(level)|\(domain)", default: 0] += 1 }
                }
            }
            return s.firingCounts.map { key, count in
                let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "", count)
            }
        }
    }

    /// The firing alert with this fingerprint, as last published.
    public func firingAlert(_ fingerprint: String) -> Entry? { state.withLock { $0.alerts[fingerprint] } }

    /// The firing alerts, newest first.
    public var firingAlerts: [Entry] { state.withLock { Array($0.alerts.values) }.sorted { $0.seq > $1.seq } }

    /// The latest value of every indicator, by topic.
    public var indicators: [Entry] { state.withLock { Array($0.indicators.values) }.sorted { $0.topic < $1.topic } }

    /// The recent values of an indicator topic, oldest first.
    public func history(_ topic: String) -> [Point] { state.withLock { $0.history[topic] ?? [] } }

    /// Every message published from now on, until the stream is dropped. A follower that
    /// falls 1,000 messages behind loses the oldest (it can tell from `seq`).
    public func follow() -> AsyncStream<Entry> {
        let (stream, continuation) = AsyncStream<Entry>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let id = UUID()
        followers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.followers.withLock { $0.removeValue(forKey: id) } }
        return stream
    }

    /// Ends every follower's stream (at shutdown, so that open HTTP streams close).
    public func finishFollowers() {
        let current = followers.withLock { f -> [AsyncStream<Entry>.Continuation] in
            defer { f.removeAll() }
            return Array(f.values)
        }
        for continuation in current { continuation.finish() }
    }

    func encoded() throws -> Data { try snapshot()() }

    /// The store as it is now, to be encoded later (on another thread).
    func snapshot() -> @Sendable () throws -> Data {
        let copy = state.withLock { $0 }
        return {
            try JSONEncoder().encode(copy)
        }
    }

    func restore(_ data: Data?) {
        guard let data, let decoded = try? JSONDecoder().decode(State.self, from: data) else { return }
        state.withLock { $0 = decoded }
    }

    /// The checkpoint key the store is kept under (not a handler's name).
    static let checkpointKey = "_outputs"
}
