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
}
