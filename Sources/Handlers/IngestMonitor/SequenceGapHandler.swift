import HandlerKit

/// `ingest.sequence_gap`: a source's `seq` skipped numbers. The alert fires (yellow) when a
/// skip is seen and resolves when every missing number has arrived. Missing numbers are kept
/// as ranges, so a source that jumps by a million costs one entry, not a million.
public struct SequenceGapHandler: Handler {
    public init() {}

    public var name: String { "IngestMonitor" }
    public var eventTypes: [String] { ["*"] }
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        var sources: [String: Source] = [:]
        var alerts = AlertBook()
        public init() {}
    }

    struct Source: Codable, Sendable, Equatable {
        var next: Int64
        /// Missing numbers as closed ranges, sorted, not overlapping.
        var missing: [ClosedRange<Int64>] = []
        var missingCount: Int64 { missing.reduce(0) { $0 + $1.count.int64 } }
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        guard let seq = event.seq else { return [] }
        guard var source = state.sources[event.source] else {
            state.sources[event.source] = Source(next: seq + 1)
            return []
        }
        let fingerprint = "ingest.sequence_gap/\(event.source)"
        if seq >= source.next {
            if seq > source.next { source.missing.append(source.next...(seq - 1)) }
            source.next = seq + 1
        } else if let i = source.missing.firstIndex(where: { $0.contains(seq) }) {
            let r = source.missing.remove(at: i)
            var parts: [ClosedRange<Int64>] = []
            if r.lowerBound < seq { parts.append(r.lowerBound...(seq - 1)) }
            if seq < r.upperBound { parts.append((seq + 1)...r.upperBound) }
            source.missing.insert(contentsOf: parts, at: i)
        } else {
            return []  // an old number arriving late, not one we were missing
        }
        state.sources[event.source] = source
        if source.missing.isEmpty {
            return [
                state.alerts.resolve(
                    fingerprint: fingerprint, at: context.now, causes: [event.id],
                    summary: "数据源\(event.source)缺失的事件已全部补齐")
            ].compactMap { $0 }
        }
        let first = source.missing[0]
        let level: Alert.Level = .yellow
        var out: [HandlerOutput] = []
        let firing = AlertBook.Firing(
            rule: "ingest.sequence_gap", subjectKey: event.source, region: event.region, subject: ["source": event.source],
            level: level,
            summary: "数据源\(event.source)的事件序号不连续: 缺失\(source.missingCount)条(自第\(first.lowerBound)条起)",
            planRef: nil, at: context.now, causes: [event.id])
        if let o = state.alerts.fire(firing) { out.append(o) }
        return out
    }
}

extension Int {
    fileprivate var int64: Int64 { Int64(self) }
}
