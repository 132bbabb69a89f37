import Foundation
import HandlerKit
import PlanFiles
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchTestSupport
import Testing

/// Acknowledge, own, escalate: every alert has an owner by its rule; an acknowledgement is
/// journaled and published; an alert nobody acknowledges climbs school → district bureau →
/// city bureau; every change is in an audit trail that survives restarts.
@Suite struct AlertDeskTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func calendar() throws -> WorkCalendar {
        try CalendarFile.loadCalendar(paths: CalendarFile.files(in: repo.path + "/Plans/calendar"))
    }

    /// A census of `school` at `at` (event time): moves the daemon's clock in event mode.
    static func census(_ school: String, at: String, id: String) -> (topic: [UInt8], body: [UInt8]) {
        let body: JSONValue = .object([
            "id": .string(id), "type": "enrolment.census", "source": "xueji", "occurredAt": .string(at), "region": "370303",
            "schemaVersion": 1,
            "payload": .object([
                "schoolId": .string(school), "level": "primary", "ownership": "public", "term": "2026-autumn", "classes": .array([]),
            ]),
        ])
        return (Array("enrolment.census.370303".utf8), JSONWriter.bytes(body))
    }

    static func dropout(_ student: String, at: String, id: String) -> (topic: [UInt8], body: [UInt8]) {
        let body: JSONValue = .object([
            "id": .string(id), "type": "enrolment.change", "source": "xueji", "occurredAt": .string(at), "region": "370303",
            "schemaVersion": 1,
            "payload": .object([
                "schoolId": "370303-0042", "level": "junior", "ownership": "public", "change": "droppedOut", "count": 1,
                "studentRef": .string(student), "reason": "厌学",
            ]),
        ])
        return (Array("enrolment.change.370303".utf8), JSONWriter.bytes(body))
    }

    /// A daemon in event time where a school has two hours to acknowledge an incident.
    static func schoolsHaveTwoHours() throws -> Harness {
        try Harness(clock: .event) {
            $0.alertPolicy = AlertPolicy(overrides: ["safety.incident": .init(owner: .school, ackWithin: RuleDuration(2, .hours))])
        }
    }

    @Test func anAcknowledgementIsPublishedWithItsOwnerAndKeptAcrossARestart() async throws {
        let directory = TemporaryDirectory()
        let fingerprint = "safety.incident/INC-D1"
        do {
            let h = try Harness(directory: directory)
            let sub = try h.subscriber(["alert.safety"])
            #expect(try h.peer.ack(try h.dealer(), Fixtures.incident(id: "d-1", incidentId: "INC-D1"))[0] == "ok")
            let fired = try #require(try sub.receive(within: 30) { Published($0)?.string("fingerprint") == fingerprint })
            #expect(Published(fired)?.string("owner") == "school:370303-0042")
            #expect(Published(fired)?.body["ackedBy"] == .null)

            let result = await h.runtime.acknowledge(fingerprint: fingerprint, by: "张店区教育局 王敏", note: "已派人到校")
            guard case .acknowledged = result else {
                Issue.record("acknowledge gave \(result)")
                return
            }
            let acked = try #require(try sub.receive(within: 30) { Published($0)?.string("ackedBy") == "张店区教育局 王敏" })
            #expect(Published(acked)?.string("ackNote") == "已派人到校")
            #expect(Published(acked)?.string("status") == "firing")
            #expect(await h.runtime.acknowledge(fingerprint: "safety.incident/NOPE", by: "王敏", note: nil) == .notFiring)
            guard case .rejected(let why) = await h.runtime.acknowledge(fingerprint: fingerprint, by: String(repeating: "长", count: 65), note: nil)
            else {
                Issue.record("a 65-character name was accepted")
                return
            }
            #expect(why.contains("by"))
            h.stop()
        }
        // Unlike Alertmanager (its issue #2370), a restart keeps the firing alert and its acknowledgement.
        let h = try Harness(directory: directory)
        defer { h.stop() }
        let kept = try #require(h.runtime.outputs.firingAlert(fingerprint))
        #expect(kept.body.contains("\"ackedBy\":\"张店区教育局 王敏\""))
        let sub = try h.subscriber(["alert.safety"])
        #expect(try h.peer.ack(try h.dealer(), Fixtures.incident(id: "d-2", incidentId: "INC-D1", status: "resolved"))[0] == "ok")
        let resolved = try #require(try sub.receive(within: 30) { Published($0)?.string("status") == "resolved" })
        #expect(Published(resolved)?.string("ackedBy") == "张店区教育局 王敏")
        #expect(try h.runtime.history(fingerprint: fingerprint).map(\.change) == [.fired, .acknowledged, .resolved])
    }

    @Test func unacknowledgedItClimbsToTheDistrictThenTheCityBureauAndStops() throws {
        let h = try Self.schoolsHaveTwoHours()
        defer { h.stop() }
        let sub = try h.subscriber(["alert.safety"])
        let dealer = try h.dealer()
        let fingerprint = "safety.incident/INC-E1"
        #expect(
            try h.peer.ack(dealer, Fixtures.incident(id: "e-1", incidentId: "INC-E1", reportedAt: "2026-03-11T08:00:00+08:00"))[0] == "ok")
        #expect(try h.peer.ack(dealer, Self.census("370303-0001", at: "2026-03-11T10:30:00+08:00", id: "c-1"))[0] == "ok")
        let first = try #require(try sub.receive(within: 30) { Published($0)?.string("escalatedTo") == "district:370303" })
        #expect(Published(first)?.string("fingerprint") == fingerprint)
        #expect(Published(first)?.string("owner") == "district:370303")
        #expect(Published(first)?.string("updatedAt") == "2026-03-11T10:00:00+08:00")
        #expect(try h.peer.ack(dealer, Self.census("370303-0001", at: "2026-03-11T12:30:00+08:00", id: "c-2"))[0] == "ok")
        _ = try #require(try sub.receive(within: 30) { Published($0)?.string("escalatedTo") == "city:370300" })
        #expect(try h.peer.ack(dealer, Self.census("370303-0001", at: "2026-03-12T20:00:00+08:00", id: "c-3"))[0] == "ok")
        #expect(Wait.until(seconds: 30) { (try? h.runtime.history(fingerprint: fingerprint).count) == 3 })
        // The city bureau is the top: a day later nothing more has happened.
        let changes = try h.runtime.history(fingerprint: fingerprint)
        #expect(changes.map(\.change) == [.fired, .escalated, .escalated])
        #expect(changes.map(\.owner) == ["school:370303-0042", "district:370303", "city:370300"])
    }

    /// The time to acknowledge runs on across a restart: the deadline comes back from the
    /// checkpoint's alert row (the journal after the checkpoint is empty: nothing is replayed).
    @Test func anEscalationTimerSurvivesARestartFromTheCheckpoint() throws {
        let directory = TemporaryDirectory()
        let fingerprint = "safety.incident/INC-T1"
        func daemon() throws -> Harness {
            try Harness(directory: directory, clock: .event) {
                $0.alertPolicy = AlertPolicy(overrides: ["safety.incident": .init(owner: .school, ackWithin: RuleDuration(2, .hours))])
            }
        }
        do {
            let h = try daemon()
            let sub = try h.subscriber(["alert.safety"])
            #expect(
                try h.peer.ack(try h.dealer(), Fixtures.incident(id: "t-1", incidentId: "INC-T1", reportedAt: "2026-03-11T08:00:00+08:00"))[0]
                    == "ok")
            _ = try #require(try sub.receive(within: 30) { Published($0)?.string("fingerprint") == fingerprint })
            h.stop()
        }
        let h = try daemon()
        defer { h.stop() }
        let sub = try h.subscriber(["alert.safety"])
        #expect(try h.peer.ack(try h.dealer(), Self.census("370303-0001", at: "2026-03-11T10:30:00+08:00", id: "c-1"))[0] == "ok")
        let escalated = try #require(try sub.receive(within: 30) { Published($0)?.string("escalatedTo") == "district:370303" })
        #expect(Published(escalated)?.string("fingerprint") == fingerprint)
        #expect(Published(escalated)?.string("updatedAt") == "2026-03-11T10:00:00+08:00")
    }

    @Test func anAcknowledgedAlertStopsEscalatingUntilItsLevelRises() async throws {
        let h = try Self.schoolsHaveTwoHours()
        defer { h.stop() }
        let sub = try h.subscriber(["alert.safety"])
        let dealer = try h.dealer()
        let fingerprint = "safety.incident/INC-R1"
        #expect(
            try h.peer.ack(dealer, Fixtures.incident(id: "r-1", incidentId: "INC-R1", reportedAt: "2026-03-11T08:00:00+08:00"))[0] == "ok")
        _ = try #require(try sub.receive(within: 30) { Published($0)?.string("fingerprint") == fingerprint })
        guard case .acknowledged = await h.runtime.acknowledge(fingerprint: fingerprint, by: "370303-0042 校长", note: nil) else {
            Issue.record("not acknowledged")
            return
        }
        #expect(try h.peer.ack(dealer, Self.census("370303-0001", at: "2026-03-11T11:00:00+08:00", id: "c-1"))[0] == "ok")
        // 120 affected makes it red: a new acknowledgement is needed, and the clock starts again.
        #expect(
            try h.peer.ack(
                dealer, Fixtures.incident(id: "r-2", incidentId: "INC-R1", affected: 120, reportedAt: "2026-03-11T08:00:00+08:00"))[0]
                == "ok")
        let raised = try #require(try sub.receive(within: 30) { Published($0)?.string("level") == "red" })
        #expect(Published(raised)?.body["ackedBy"] == .null)
        #expect(try h.peer.ack(dealer, Self.census("370303-0001", at: "2026-03-11T13:30:00+08:00", id: "c-2"))[0] == "ok")
        _ = try #require(try sub.receive(within: 30) { Published($0)?.string("escalatedTo") == "district:370303" })
        #expect(try h.runtime.history(fingerprint: fingerprint).map(\.change) == [.fired, .acknowledged, .levelChanged, .escalated])
    }

    @Test func workingDayLimitsSkipTheNationalDayWeekOf2026() throws {
        let directory = TemporaryDirectory()
        let calendar = try Self.calendar()
        let h = try Harness(directory: directory, clock: .event) {
            $0.calendar = calendar
            $0.alertPolicy = AlertPolicy(overrides: ["enrolment.dropout_open": .init(owner: .school, ackWithin: RuleDuration(3, .workingDays))])
        }
        defer { h.stop() }
        let dealer = try h.dealer()
        let fingerprint = "enrolment.dropout_open/S-NAT"
        // Tuesday 29 September; working days after it: the 30th, then 8 and 9 October (1–7 off).
        #expect(try h.peer.ack(dealer, Self.dropout("S-NAT", at: "2026-09-29T10:00:00+08:00", id: "n-1"))[0] == "ok")
        #expect(try h.peer.ack(dealer, Self.census("370303-0001", at: "2026-10-09T23:00:00+08:00", id: "n-2"))[0] == "ok")
        #expect(Wait.until(seconds: 30) { (try? h.runtime.history(fingerprint: fingerprint).count) == 1 })
        #expect(try h.runtime.history(fingerprint: fingerprint).map(\.change) == [.fired])
        #expect(try h.peer.ack(dealer, Self.census("370303-0001", at: "2026-10-10T00:30:00+08:00", id: "n-3"))[0] == "ok")
        #expect(Wait.until(seconds: 30) { (try? h.runtime.history(fingerprint: fingerprint).count) == 2 })
        let escalated = try #require(try h.runtime.history(fingerprint: fingerprint).last)
        #expect(escalated.change == .escalated)
        #expect(escalated.at.description == "2026-10-10T00:00:00+08:00")
        #expect(escalated.owner == "district:370303")
    }
}
