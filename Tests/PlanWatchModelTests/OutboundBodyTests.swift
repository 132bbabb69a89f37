import Foundation
import PlanWatchModel
import Testing

/// The bodies of alerts, indicator updates and dead letters are written member by member
/// (``JSONWriter/Object``). Outside clients read them to the letter (CONTRACT.md): the bytes
/// must be those the contract's encoding as a ``JSONValue`` gave — every member present, null
/// when unset, in the same order, strings escaped alike. That encoding is kept here as the
/// reference, as it was before the writer.
struct OutboundBodyTests {
    static let awkward = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{0} ls \u{2028} 校园 🏫"
    static let region = RegionCode("370303")!
    static let at = Timestamp(epochMilliseconds: 1_774_000_000_123)

    static var alerts: [Alert] {
        let bare = Alert(
            fingerprint: "safety.incident/INC-1", rule: "safety.incident", status: .firing, level: .orange, region: region,
            subject: [:], summary: "", planRef: nil, startsAt: at, updatedAt: at, causes: [])
        var full = Alert(
            fingerprint: "f/\(awkward)", rule: "enrolment.oversized_class", status: .resolved, level: .red, previousLevel: .yellow,
            region: region, subject: ["schoolId": "370303-0042", "classId": awkward, "a": "", "z": "末"], summary: awkward,
            planRef: "City 2023 §22", startsAt: at, updatedAt: Timestamp(epochMilliseconds: 0), endsAt: at,
            causes: ["e-1", awkward, ""])
        full.owner = "school:370303-0042"
        full.ackedBy = awkward
        full.ackedAt = at
        full.ackNote = "已处理"
        full.escalatedTo = "district:370303"
        return [bare, full]
    }

    static var updates: [IndicatorUpdate] {
        let bare = IndicatorUpdate(indicator: "safety.incidents_30d", scope: .district, region: region, value: nil, asOf: at)
        var full = IndicatorUpdate(
            indicator: "enrolment.public_kindergarten_share", scope: .city, region: region, value: 0.1 + 0.2, numerator: Int64.max,
            denominator: Int64.min, target: Target(comparison: .atLeast, value: 50, deadline: LocalDate(year: 2025, month: 12, day: 31)!, planRef: awkward),
            status: .onTrack, asOf: at)
        full.definitionVersion = 3
        full.changedBy = ["e-1", awkward]
        full.revision = 2
        full.plan = "zibo-2023"
        full.period = Plan.Period(start: LocalDate(year: 2023, month: 1, day: 1)!, end: LocalDate(year: 2025, month: 12, day: 31)!)
        full.baseline = 1e20
        full.final = true
        full.measures = awkward
        full.filter = ["level": ["kindergarten", awkward], "ownership": []]
        var whole = bare
        whole.value = 42
        whole.baseline = -0.0
        var notANumber = bare
        notANumber.value = .nan
        notANumber.baseline = .infinity
        return [bare, full, whole, notANumber]
    }

    @Test func anAlertsBodyIsTheContractsEncodingByteForByte() {
        for alert in Self.alerts {
            for seq: Int64 in [1, Int64.max] {
                #expect(Self.text(alert.body(seq: seq)) == JSONWriter.string(Self.reference(alert, seq: seq)))
            }
        }
    }

    @Test func anIndicatorUpdatesBodyIsTheContractsEncodingByteForByte() {
        for update in Self.updates {
            #expect(Self.text(update.body(seq: 7)) == JSONWriter.string(Self.reference(update, seq: 7)))
        }
    }

    @Test func aDeadLettersBodyIsTheContractsEncodingByteForByte() {
        let letter = DeadLetter(reason: .schemaViolation, detail: Self.awkward, topic: "event.safety", body: Self.awkward, receivedAt: Self.at)
        #expect(Self.text(letter.body(seq: 3)) == JSONWriter.string(Self.reference(letter, seq: 3)))
    }

    /// Two bodies in the contract's words, written out: what the comparisons above cannot see
    /// (both sides share the writer's escaping and number helpers).
    @Test func aBareAlertAndAWholeNumberIndicatorAreTheseBytes() {
        #expect(
            Self.text(Self.alerts[0].body(seq: 1))
                == #"{"fingerprint":"safety.incident/INC-1","rule":"safety.incident","status":"firing","level":"orange","previousLevel":null,"#
                + #""region":"370303","subject":{},"summary":"","planRef":null,"startsAt":"2026-03-20T17:46:40.123+08:00","#
                + #""updatedAt":"2026-03-20T17:46:40.123+08:00","endsAt":null,"causes":[],"owner":null,"ackedBy":null,"ackedAt":null,"#
                + #""ackNote":null,"escalatedTo":null,"seq":1}"#)
        #expect(
            Self.text(Self.updates[2].body(seq: 7))
                == #"{"indicator":"safety.incidents_30d","scope":"district","region":"370303","value":42,"numerator":null,"#
                + #""denominator":null,"target":null,"status":null,"asOf":"2026-03-20T17:46:40.123+08:00","definitionVersion":1,"#
                + #""changedBy":[],"revision":0,"plan":null,"period":null,"baseline":0,"final":false,"measures":null,"filter":null,"#
                + #""seq":7}"#)
        #expect(Self.text(Self.updates[3].body(seq: 7)).contains(#""value":null,"#))
    }

    /// The bytes as text, for a readable difference (both sides are valid UTF-8: equal texts
    /// are equal bytes).
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    // The encodings as they were, built as values.

    static func reference(_ a: Alert, seq: Int64) -> JSONValue {
        .object([
            "fingerprint": .string(a.fingerprint),
            "rule": .string(a.rule),
            "status": .string(a.status.rawValue),
            "level": .string(a.level.rawValue),
            "previousLevel": .optional(a.previousLevel?.rawValue),
            "region": .string(a.region.code),
            "subject": .object(JSONObject(a.subject.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
            "summary": .string(a.summary),
            "planRef": .optional(a.planRef),
            "startsAt": .string(a.startsAt.description),
            "updatedAt": .string(a.updatedAt.description),
            "endsAt": .optional(a.endsAt?.description),
            "causes": .array(a.causes.map { .string($0) }),
            "owner": .optional(a.owner),
            "ackedBy": .optional(a.ackedBy),
            "ackedAt": .optional(a.ackedAt?.description),
            "ackNote": .optional(a.ackNote),
            "escalatedTo": .optional(a.escalatedTo),
            "seq": .integer(seq),
        ])
    }

    static func reference(_ u: IndicatorUpdate, seq: Int64) -> JSONValue {
        .object([
            "indicator": .string(u.indicator),
            "scope": .string(u.scope.rawValue),
            "region": .string(u.region.code),
            "value": u.value.map { .double($0) } ?? .null,
            "numerator": .optional(u.numerator),
            "denominator": .optional(u.denominator),
            "target": u.target.map { t in
                .object([
                    t.comparison.rawValue: .double(t.value), "deadline": .string(t.deadline.description), "planRef": .string(t.planRef),
                ])
            } ?? .null,
            "status": .optional(u.status?.rawValue),
            "asOf": .string(u.asOf.description),
            "definitionVersion": .integer(u.definitionVersion),
            "changedBy": .array(u.changedBy.map { .string($0) }),
            "revision": .integer(u.revision),
            "plan": .optional(u.plan),
            "period": u.period.map { .object(["start": .string($0.start.description), "end": .string($0.end.description)]) } ?? .null,
            "baseline": u.baseline.map { .double($0) } ?? .null,
            "final": .bool(u.final),
            "measures": .optional(u.measures),
            "filter": u.filter.map { f in
                .object(JSONObject(f.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.array($0.value.map { .string($0) })) }))
            } ?? .null,
            "seq": .integer(seq),
        ])
    }

    static func reference(_ d: DeadLetter, seq: Int64) -> JSONValue {
        .object([
            "reason": .string(d.reason.rawValue),
            "detail": .string(d.detail),
            "topic": .string(d.topic),
            "body": .string(d.body),
            "receivedAt": .string(d.receivedAt.description),
            "seq": .integer(seq),
        ])
    }
}
