import Foundation
import HandlerKit
import PlanWatchModel
import PlanWatchWire
import Synchronization

/// The daemon's current outputs: each indicator's latest value and each firing alert, with
/// the `seq` they were published with, a short history per indicator, and live followers.
/// The output thread writes it after publishing each batch; the snapshot socket, the HTTP APIs
/// and the console read it. Kept in the checkpoint, so it survives restarts.
public final class OutputStore: Sendable {
    /// One published message.
    public struct Entry: Sendable, Codable, Equatable {
        public var topic: String
        /// The body, JSON text: for an alert or an indicator, its encoding, made when asked for
        /// (a snapshot, the HTTP API) — the store does not keep the text of every firing alert
        /// (about 600 bytes each), nor does a replay make the text of what it restores.
        public var body: String { text ?? typed?.body(seq: seq).map { String(decoding: $0, as: UTF8.self) } ?? "" }
        /// The body as written: a dead letter's, or an entry's read from a checkpoint that kept it.
        private var text: String?
        public var seq: Int64
        /// For an alert: its level, domain and region, for filters and gauges without parsing.
        public var level: String?
        public var domain: String?
        public var region: String?
        /// The output as the handler made it (the body is its encoding): Alertmanager and the
        /// metrics read these, never the body.
        public var alert: Alert? { if case .alert(let a)? = typed { a } else { nil } }
        public var indicator: IndicatorUpdate? { if case .indicator(let u)? = typed { u } else { nil } }
        /// The processor's typed output (boxed), shared with the message it came in.
        private var typed: OutboundMessage.Meta?
        /// A firing alert read from a checkpoint without its value, until the desk's is taken.
        var waitsForItsAlert: Bool { typed == nil && text == nil }

        /// An entry of its body alone (a dead letter, or one read from an old checkpoint); with
        /// `body` nil, its typed value is set next.
        init(topic: String, body: String?, seq: Int64) {
            self.topic = topic
            self.text = body
            self.seq = seq
        }

        /// The entry of a message published: an alert or indicator keeps the message's typed
        /// value (its body is that value's encoding; an alert's level, domain and region are
        /// its own), a dead letter its body.
        init(_ message: OutboundMessage) {
            if case .deadLetter = message.meta {
                self.init(topic: message.topic, body: String(decoding: message.body, as: UTF8.self), seq: message.seq)
                return
            }
            self.init(topic: message.topic, body: nil, seq: message.seq)
            typed = message.meta
            if let alert { (level, domain, region) = (alert.level.rawValue, alert.domain, alert.region.code) }
        }

        /// An alert's entry; its body is the alert's encoding unless given.
        init(topic: String, body: String? = nil, seq: Int64, alert: Alert) {
            self.init(OutboundMessage(topic: topic, seq: seq, meta: .alert(alert)))
            text = body
        }

        enum CodingKeys: String, CodingKey { case topic, body, seq, level, domain, region, alert, indicator, desk }

        /// A checkpoint keeps an indicator as its typed value only: the body is its encoding
        /// (``IndicatorUpdate/body(seq:)``), made when asked for. It keeps a firing alert as
        /// its topic and `seq` alone (`"desk": true`): the alert desk's row of the same
        /// checkpoint holds the alert as last published, and a restart takes it from there
        /// (``OutputStore/takeAlerts(fromDesk:)``) — written here too, each open alert was a
        /// third of an alert-heavy checkpoint. Entries written with their body or their alert
        /// (before) are read as written.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(topic, forKey: .topic)
            try c.encode(seq, forKey: .seq)
            if alert != nil {
                try c.encode(true, forKey: .desk)
                return
            }
            try c.encodeIfPresent(indicator, forKey: .indicator)
            if indicator == nil {
                try c.encode(body, forKey: .body)
                try c.encodeIfPresent(level, forKey: .level)
                try c.encodeIfPresent(domain, forKey: .domain)
                try c.encodeIfPresent(region, forKey: .region)
            }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let (topic, seq) = (try c.decode(String.self, forKey: .topic), try c.decode(Int64.self, forKey: .seq))
            let written = try c.decodeIfPresent(String.self, forKey: .body)
            if try c.decodeIfPresent(Bool.self, forKey: .desk) == true {
                self.init(topic: topic, body: nil, seq: seq)  // its alert comes from the desk
            } else if let alert = try c.decodeIfPresent(Alert.self, forKey: .alert) {
                self.init(topic: topic, body: written, seq: seq, alert: alert)
            } else if let indicator = try c.decodeIfPresent(IndicatorUpdate.self, forKey: .indicator) {
                self.init(OutboundMessage(topic: topic, seq: seq, meta: .indicator(indicator)))
                text = written
            } else if let written {
                self.init(topic: topic, body: written, seq: seq)
                (level, domain, region) =
                    (try c.decodeIfPresent(String.self, forKey: .level), try c.decodeIfPresent(String.self, forKey: .domain),
                     try c.decodeIfPresent(String.self, forKey: .region))
            } else {
                throw DecodingError.dataCorruptedError(
                    forKey: .body, in: c,
                    debugDescription: "an output entry needs its body, the alert or indicator it encodes, or to be an alert at the desk")
            }
        }
    }

    /// A point of an indicator's history.
    public struct Point: Sendable, Codable, Equatable {
        public var asOf: String
        public var value: Double?
    }

    struct State: Codable, Sendable {
        // By topic, by fingerprint, by topic: a checkpoint writes those that changed.
        var indicators = SubjectMap<Entry>()
        var alerts = SubjectMap<Entry>()
        var history = SubjectMap<[Point]>()
        var lastSeq: Int64 = 0
        /// Firing alerts by level and domain, kept as they change so that a metrics scrape does
        /// not count them. Derived from `alerts`: not checkpointed, counted again at restore.
        var firingCounts: [FiringKey: Int] = [:]
        /// Which of the maps' subjects the next checkpoint writes. Not checkpointed.
        var coding = SubjectCoding()

        enum CodingKeys: String, CodingKey { case indicators, alerts, history, lastSeq }

        mutating func count(_ entry: Entry, _ delta: Int) {
            guard let level = entry.level, let domain = entry.domain else { return }
            firingCounts[FiringKey(level: level, domain: domain), default: 0] += delta
        }
    }

    struct FiringKey: Hashable, Sendable {
        var level: String
        var domain: String
    }

    private let state = Mutex(State())
    /// The state read from a checkpoint, until its firing alerts are taken from the desk: none
    /// is visible without its alert.
    private let restored = Mutex<State?>(nil)
    /// Whether the store holds what the runtime restored (or the runtime stopped first), and
    /// who waits for that.
    private let settled = OneShot<Void>()
    /// The live followers; nil once ``finishFollowers()`` ended them (a follower then ends at once).
    private let followers = Mutex<[UUID: AsyncStream<Entry>.Continuation]?>([:])
    static let historyLength = 60

    public init() {}

    func apply(_ messages: [OutboundMessage]) {
        guard !messages.isEmpty else { return }
        var published: [Entry] = []
        state.withLock { s in
            for m in messages {
                s.lastSeq = max(s.lastSeq, m.seq)
                let entry = Entry(m)
                published.append(entry)
                switch m.meta {
                case .indicator(let update):
                    s.indicators[m.topic] = entry
                    s.history[m.topic, default: []].append(Point(asOf: update.asOf.description, value: update.value))  // in place
                    if let count = s.history[m.topic]?.count, count > Self.historyLength {
                        s.history[m.topic]?.removeFirst(count - Self.historyLength)
                    }
                case .alert(let alert):
                    let firing = alert.status == .firing
                    if let old = s.alerts[alert.fingerprint] { s.count(old, -1) }
                    if firing { s.count(entry, 1) }
                    s.alerts[alert.fingerprint] = firing ? entry : nil
                case .deadLetter: break
                }
            }
        }
        let current = followers.withLock { Array(($0 ?? [:]).values) }
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

    /// How many alerts fire, by level and domain (with 0 for those that fired before).
    public var firingCounts: [(level: String, domain: String, count: Int)] {
        state.withLock { s in s.firingCounts.map { ($0.key.level, $0.key.domain, $0.value) } }
    }

    /// The firing alert with this fingerprint, as last published.
    public func firingAlert(_ fingerprint: String) -> Entry? { state.withLock { $0.alerts[fingerprint] } }

    /// The firing alerts, newest first.
    public var firingAlerts: [Entry] { state.withLock { Array($0.alerts.values) }.sorted { $0.seq > $1.seq } }

    /// The latest value of every indicator, by topic.
    public var indicators: [Entry] { state.withLock { Array($0.indicators.values) }.sorted { $0.topic < $1.topic } }

    /// The recent values of an indicator topic, oldest first.
    public func history(_ topic: String) -> [Point] { state.withLock { $0.history[topic] ?? [] } }

    /// What a follower reads next: an output published, or that the outputs after `after`
    /// were missed — it fell more than its buffer behind (a burst: a thousand alerts resolved
    /// in one batch) and the oldest were dropped —, told before the next output it gets.
    public enum Followed: Sendable {
        case output(Entry)
        case missed(after: Int64)
    }

    /// Every message published from now on, until the follower is dropped or the store's
    /// followers are ended (one asked for after that ends at once). Its buffer holds 1,000;
    /// outputs are numbered without gaps, so one it lost is told as ``Followed/missed(after:)``.
    public func follow() -> Follower { Follower(entries: entries()) }

    /// The outputs published from now on, with a gap in `seq` told as missed; a reader that has
    /// read the store as of a `seq` skips what it already has (``Iterator/skip(through:)``).
    public struct Follower: AsyncSequence, Sendable {
        let entries: AsyncStream<Entry>

        public func makeAsyncIterator() -> Iterator { Iterator(entries: entries.makeAsyncIterator()) }

        public struct Iterator: AsyncIteratorProtocol {
            var entries: AsyncStream<Entry>.Iterator
            /// The last `seq` the reader has (read, or skipped through); nil before the first.
            var last: Int64?
            /// The output that came after a gap, given after the gap is told.
            var pending: Entry?

            /// Outputs up to `seq` are not given: the reader has them (it read the store).
            public mutating func skip(through seq: Int64) { last = Swift.max(last ?? seq, seq) }

            public mutating func next() async -> Followed? {
                while true {
                    let entry: Entry
                    if let held = pending {
                        pending = nil
                        entry = held
                    } else {
                        guard let e = await entries.next() else { return nil }
                        entry = e
                    }
                    if let last, entry.seq <= last { continue }
                    if let last, entry.seq > last + 1 {
                        pending = entry
                        self.last = entry.seq - 1  // told once: the entry comes next, unless skipped
                        return .missed(after: last)
                    }
                    last = entry.seq
                    return .output(entry)
                }
            }
        }
    }

    private func entries() -> AsyncStream<Entry> {
        let (stream, continuation) = AsyncStream<Entry>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let id = UUID()
        let live = followers.withLock { f -> Bool in
            guard f != nil else { return false }
            f?[id] = continuation
            return true
        }
        guard live else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in _ = self?.followers.withLock { $0?.removeValue(forKey: id) } }
        return stream
    }

    /// How many follow the store now.
    var followerCount: Int { followers.withLock { $0?.count ?? 0 } }

    /// Ends every follower's stream, and any asked for later (at shutdown, so that open HTTP
    /// streams close, or after a start that failed); releases ``restoredOrStopped()``.
    public func finishFollowers() {
        let current = followers.withLock { f -> [AsyncStream<Entry>.Continuation] in
            defer { f = nil }
            return Array((f ?? [:]).values)
        }
        for continuation in current { continuation.finish() }
        settle()
    }

    /// The store for a checkpoint: the subjects changed since the last one, taken now, without
    /// copying the maps — on the pipeline thread, once the output thread (the store's one
    /// writer) has applied everything through the checkpoint's position.
    func checkpointState() throws -> (state: Data, subjects: SubjectCoding.Subjects?) {
        try state.withLock { s in
            var coding = s.coding
            defer { s.coding = coding }
            return try coding.encode(s)
        }
    }

    /// The subjects taken for a checkpoint were not saved: the next one writes every one.
    func checkpointFailed() { state.withLock { $0.coding.checkpointFailed() } }

    /// Reads the store from a checkpoint, to be put in place by ``takeAlerts(fromDesk:)`` once
    /// its firing alerts can be taken from the desk; one that does not read back leaves the
    /// store empty.
    func restore(_ data: Data?, subjects: HandlerSubjects?) {
        var coding = SubjectCoding()
        guard var decoded = try? coding.restore(State.self, from: data, subjects: subjects) else { return }
        decoded.coding = coding
        for (fingerprint, entry) in decoded.alerts {
            var entry = entry
            if entry.level == nil, let meta = Self.alertFields(entry.body) {
                // Written before alert entries kept their level, domain and region: read once, here.
                (entry.level, entry.domain, entry.region) = meta
                decoded.alerts[fingerprint] = entry
            }
            decoded.count(entry, 1)
        }
        restored.withLock { $0 = decoded }
    }

    /// Puts the store read by ``restore(_:subjects:)`` in place, each firing alert read without
    /// its value (a checkpoint keeps it once, at the alert desk: see ``Entry/encode(to:)``)
    /// given the desk's alert, as restored from the same checkpoint — the same value, sharing
    /// its text, and not a change for the next checkpoint to write. Returns the fingerprints of
    /// those the desk did not have, which are dropped: the desk and the store change together,
    /// at the same journal position, so none is expected — short of a desk that could not be
    /// read back (docs/reliability.md).
    func takeAlerts(fromDesk deskAlert: (String) -> Alert?) -> [String] {
        defer { settle() }
        guard var s = restored.withLock({ r in defer { r = nil }; return r }) else { return [] }
        var missing: [String] = []
        for (fingerprint, entry) in s.alerts where entry.waitsForItsAlert {
            if let alert = deskAlert(fingerprint) {
                let complete = Entry(topic: entry.topic, seq: entry.seq, alert: alert)
                s.alerts.setStored(complete, forKey: fingerprint)
                s.count(complete, 1)
            } else {
                s.alerts[fingerprint] = nil
                missing.append(fingerprint)
            }
        }
        state.withLock { $0 = s }
        return missing
    }

    /// Returns once the store holds what the runtime's start restored — the firing alerts of
    /// its checkpoint, which no follower is told of —, or once the runtime stopped (or the
    /// task is cancelled) before that. What reads the store once and then follows it (the
    /// Alertmanager bridge) reads it after this, or it misses what a restart gave back.
    public func restoredOrStopped() async { _ = await settled.wait() }

    private func settle() { settled.set(()) }

    /// How many wait in ``restoredOrStopped()`` now.
    var waitingForTheRestore: Int { settled.waiting }

    private static func alertFields(_ body: String) -> (String, String, String)? {
        guard case .object(let o)? = try? JSONParser.parse(Array(body.utf8)), case .string(let level)? = o["level"],
            case .string(let rule)? = o["rule"], case .string(let region)? = o["region"]
        else { return nil }
        return (level, String(rule.prefix(while: { $0 != "." })), region)
    }

    /// The checkpoint key the store is kept under (not a handler's name).
    static let checkpointKey = "_outputs"
}
