import HandlerKit
import HandlerKitTesting
import IngestMonitor
import Testing

@Suite struct SequenceGapTests {
    func census(_ school: String) -> JSONValue {
        .object(["schoolId": .string(school), "level": "primary", "ownership": "public", "term": "2020-spring", "classes": .array([])])
    }

    /// Sends an event of source `xueji` with the given `seq`.
    func send(_ s: inout Scenario<SequenceGapHandler>, seq: Int64) throws {
        var body = JSONObject([
            ("id", .string("x-\(seq)")), ("type", "enrolment.census"), ("source", "xueji"), ("seq", .integer(seq)),
            ("occurredAt", .string(s.now.description)), ("region", "370303"), ("schemaVersion", 1), ("payload", census("370303-0042")),
        ])
        body["seq"] = .integer(seq)
        try s.sendRaw(body)
    }

    @Test func aSkipFiresYellowAndResolvesWhenTheMissingArrive() throws {
        var s = Scenario(SequenceGapHandler(), now: "2026-03-02T08:00:00+08:00")
        try send(&s, seq: 41)
        try send(&s, seq: 42)
        #expect(s.alerts.isEmpty)
        try send(&s, seq: 45)
        let fp = "ingest.sequence_gap/xueji"
        let alert = try #require(s.firing(fp))
        #expect(alert.level == .yellow)
        #expect(alert.summary.contains("缺失2条") && alert.summary.contains("第43条"))
        try send(&s, seq: 44)
        #expect(s.history(fp).count == 1)  // still missing 43: no repeat
        try send(&s, seq: 43)
        #expect(s.firing(fp) == nil)
        #expect(s.history(fp).last?.status == .resolved)
    }

    @Test func aHugeJumpIsOneRangeAndOldNumbersAreIgnored() throws {
        var s = Scenario(SequenceGapHandler(), now: "2026-03-02T08:00:00+08:00")
        try send(&s, seq: 1)
        try send(&s, seq: 1_000_001)
        #expect(s.firing("ingest.sequence_gap/xueji")?.summary.contains("缺失999999条") == true)
        try send(&s, seq: 0)
        #expect(s.history("ingest.sequence_gap/xueji").count == 1)
    }

    /// DOMAIN.md: resolves "when the missing events arrive or an operator acknowledges".
    @Test func anOperatorsAcknowledgementResolvesTheGap() throws {
        var s = Scenario(SequenceGapHandler(), now: "2026-03-02T08:00:00+08:00")
        try send(&s, seq: 1)
        try send(&s, seq: 5)
        let fp = "ingest.sequence_gap/xueji"
        #expect(s.firing(fp) != nil)
        try s.send(EventType.operatorAck, region: "370303", payload: .object(["fingerprint": .string(fp), "by": "wangmin", "note": "已与学籍系统核实"]))
        let resolved = try #require(s.history(fp).last)
        #expect(resolved.status == .resolved && resolved.summary.contains("wangmin确认") && resolved.summary.contains("3条"))
        // Nothing is awaited any more: the numbers arriving later change nothing, the next skip fires again.
        try send(&s, seq: 3)
        #expect(s.history(fp).count == 2)
        try send(&s, seq: 8)
        #expect(s.firing(fp)?.summary.contains("缺失2条") == true)
    }

    /// Bounded per source: a source that skips again and again keeps at most maxRanges ranges.
    @Test func aSourceThatSkipsWithoutEndKeepsBoundedState() throws {
        var s = Scenario(SequenceGapHandler(), now: "2026-03-02T08:00:00+08:00")
        for n in 0...(SequenceGapHandler.maxRanges + 10) { try send(&s, seq: Int64(n) * 2) }
        try send(&s, seq: SafeInteger.max)  // the largest seq the contract allows: no trap
        #expect(s.firing("ingest.sequence_gap/xueji") != nil)
        // Acknowledged, it says how many were still awaited: the newest ranges only.
        try s.send(EventType.operatorAck, region: "370303", payload: .object(["fingerprint": "ingest.sequence_gap/xueji", "by": "wangmin"]))
        let resolved = try #require(s.history("ingest.sequence_gap/xueji").last)
        #expect(resolved.status == .resolved)
        // Kept: the last gap (to the largest seq) and the newest maxRanges − 1 single ones.
        let awaited = SafeInteger.max - Int64(SequenceGapHandler.maxRanges) - 22
        #expect(resolved.summary.contains("缺失的\(awaited)条"), "\(resolved.summary)")
    }
}
