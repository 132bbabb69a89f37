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
    }

    /// A point of an indicator's history.
    public struct Point: Sendable, Codable, Equatable {
        public var asOf: String
        public var value: Double?
    }

    struct State: Codable {
        var indicators: [String: Entry] = [:]
        var alerts: [String: Entry] = [:]
        var history: [String: [Point]] = [:]
        var lastSeq: Int64 = 0
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
                let entry = Entry(topic: m.topic, body: String(decoding: m.body, as: UTF8.self), seq: m.seq)
                s.lastSeq = max(s.lastSeq, m.seq)
                published.append(entry)
                if m.topic.hasPrefix("indicator.") {
                    s.indicators[m.topic] = entry
                    guard case .object(let o)? = try? JSONParser.parse(m.body) else { continue }
                    var value: Double?
                    switch o["value"] {
                    case .integer(let i)?: value = Double(i)
                    case .double(let d)?: value = d
                    default: value = nil
                    }
                    let asOf: String = if case .string(let a)? = o["asOf"] { a } else { "" }
                    var points = s.history[m.topic] ?? []
                    points.append(Point(asOf: asOf, value: value))
                    if points.count > Self.historyLength { points.removeFirst(points.count - Self.historyLength) }
                    s.history[m.topic] = points
                } else if m.topic.hasPrefix("alert."),
                    case .object(let o)? = try? JSONParser.parse(m.body), case .string(let fp)? = o["fingerprint"]
                {
                    if case .string("resolved")? = o["status"] { s.alerts[fp] = nil } else { s.alerts[fp] = entry }
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

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try state.withLock { try encoder.encode($0) }
    }

    func restore(_ data: Data?) {
        guard let data, let decoded = try? JSONDecoder().decode(State.self, from: data) else { return }
        state.withLock { $0 = decoded }
    }

    /// The checkpoint key the store is kept under (not a handler's name).
    static let checkpointKey = "_outputs"
}
