import HandlerKit

/// `ingest.sequence_gap`: a source's `seq` skipped numbers. The alert fires (yellow) when a
/// skip is seen and resolves when every missing number has arrived, or when an operator
/// acknowledges it (the bureau has followed it up: nothing more is awaited). Missing numbers
/// are kept as ranges, so a source that jumps by a million costs one entry, not a million.
///
/// Bounded whatever peers send: `seq` is at most 2^53 − 1 (the decoder rejects more), a
/// source keeps at most ``maxRanges`` ranges (older ones are given up and counted), and at
/// most ``maxSources`` sources are followed (the one seen longest ago is let go).
public struct SequenceGapHandler: Handler {
    public init() {}

    /// Ranges of missing numbers kept per source; past it the oldest range is given up.
    public static let maxRanges = 1_000
    /// Sources followed at once; past it the one seen longest ago is forgotten.
    public static let maxSources = 10_000
    public static let rule = "ingest.sequence_gap"

    static let gapRule = RuleSpec(
        rule, name: "数据源事件序号不连续", owner: .city, ackWithin: RuleDuration(1, .workingDays))

    public var manifest: HandlerManifest { HandlerManifest(rules: [Self.gapRule]) }

    public var name: String { "IngestMonitor" }
    public var eventTypes: [String] { ["*"] }
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var sources: [String: Source] = [:]
        var alerts = AlertBook()
        /// Events seen with a `seq`, to know which source was seen longest ago.
        var clock: Int64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey { case sources, alerts, clock }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sources = try c.decode([String: Source].self, forKey: .sources)
            alerts = try c.decode(AlertBook.self, forKey: .alerts)
            clock = try c.decodeIfPresent(Int64.self, forKey: .clock) ?? 0
        }
    }

    struct Source: Codable, Sendable, Equatable {
        var next: Int64
        /// Missing numbers as closed ranges, sorted, not overlapping.
        var missing: [ClosedRange<Int64>] = []
        /// Missing numbers no longer awaited: given up past ``maxRanges``, or acknowledged.
        var givenUp: Int64 = 0
        var lastSeen: Int64 = 0
        /// Disjoint ranges within 0…2^53 − 1: the sum cannot overflow.
        var missingCount: Int64 { missing.reduce(0) { $0 + Int64($1.count) } }

        init(next: Int64, lastSeen: Int64) {
            self.next = next
            self.lastSeen = lastSeen
        }

        enum CodingKeys: String, CodingKey { case next, missing, givenUp, lastSeen }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            next = try c.decode(Int64.self, forKey: .next)
            missing = try c.decode([ClosedRange<Int64>].self, forKey: .missing)
            givenUp = try c.decodeIfPresent(Int64.self, forKey: .givenUp) ?? 0
            lastSeen = try c.decodeIfPresent(Int64.self, forKey: .lastSeen) ?? 0
        }
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        if event.type == EventType.operatorAck { return acknowledge(event, state: &state, context: context) }
        guard let seq = event.seq else { return [] }
        let after = SafeInteger.add(seq, 1)
        state.clock += 1
        guard var source = state.sources[event.source] else {
            var out: [HandlerOutput] = []
            if state.sources.count >= Self.maxSources { out += forgetOldest(&state, now: context.now) }
            state.sources[event.source] = Source(next: after, lastSeen: state.clock)
            return out
        }
        source.lastSeen = state.clock
        let fingerprint = "\(Self.rule)/\(event.source)"
        if seq >= source.next {
            if seq > source.next { source.missing.append(source.next...(seq - 1)) }
            source.next = after
            if source.missing.count > Self.maxRanges {
                let oldest = source.missing.removeFirst()
                source.givenUp += Int64(oldest.count)
            }
        } else if let i = source.missing.firstIndex(where: { $0.contains(seq) }) {
            let r = source.missing.remove(at: i)
            var parts: [ClosedRange<Int64>] = []
            if r.lowerBound < seq { parts.append(r.lowerBound...(seq - 1)) }
            if seq < r.upperBound { parts.append((seq + 1)...r.upperBound) }
            source.missing.insert(contentsOf: parts, at: i)
        } else {
            state.sources[event.source] = source
            return []  // an old number arriving late, not one we were missing
        }
        state.sources[event.source] = source
        if source.missing.isEmpty {
            let summary =
                source.givenUp > 0
                ? "数据源\(event.source)缺失的事件已补齐(另有\(source.givenUp)条缺失过久, 不再等待)"
                : "数据源\(event.source)缺失的事件已全部补齐"
            return [state.alerts.resolve(fingerprint: fingerprint, at: context.now, causes: [event.id], summary: summary)]
                .compactMap { $0 }
        }
        let first = source.missing[0]
        let firing = AlertBook.Firing(
            rule: Self.rule, subjectKey: event.source, region: event.region, subject: ["source": event.source],
            level: .yellow,
            summary: "数据源\(event.source)的事件序号不连续: 缺失\(source.missingCount)条(自第\(first.lowerBound)条起)",
            planRef: nil, at: context.now, causes: [event.id])
        return [state.alerts.fire(firing)].compactMap { $0 }
    }

    /// An operator acknowledged the gap: it has been followed up with the source, so nothing
    /// more is awaited and the alert resolves.
    private func acknowledge(_ event: Event, state: inout State, context: HandlerContext) -> [HandlerOutput] {
        guard case .other(let payload) = event.payload, let ack = try? OperatorAck(FieldReader(payload, path: "payload")),
            ack.fingerprint.hasPrefix("\(Self.rule)/")
        else { return [] }
        let name = String(ack.fingerprint.dropFirst(Self.rule.count + 1))
        guard state.alerts.isFiring(ack.fingerprint), var source = state.sources[name] else { return [] }
        let count = source.missingCount
        source.givenUp = SafeInteger.add(source.givenUp, count)
        source.missing = []
        state.sources[name] = source
        return [
            state.alerts.resolve(
                fingerprint: ack.fingerprint, at: context.now, causes: [event.id],
                summary: "数据源\(name)缺失的\(count)条事件已由\(ack.by)确认处理, 不再等待补发")
        ].compactMap { $0 }
    }

    /// Lets go of the source seen longest ago (resolving its alert), to keep the state bounded.
    private func forgetOldest(_ state: inout State, now: Timestamp) -> [HandlerOutput] {
        guard let oldest = state.sources.min(by: { ($0.value.lastSeen, $0.key) < ($1.value.lastSeen, $1.key) })?.key else { return [] }
        state.sources[oldest] = nil
        return [
            state.alerts.resolve(
                fingerprint: "\(Self.rule)/\(oldest)", at: now, causes: [],
                summary: "数据源\(oldest)长期无新事件, 已停止跟踪其序号(同时跟踪的数据源最多\(Self.maxSources)个)")
        ].compactMap { $0 }
    }
}
