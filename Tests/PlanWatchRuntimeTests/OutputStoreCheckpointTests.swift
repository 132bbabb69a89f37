import Foundation
import HandlerKit
import PlanWatchModel
import PlanWatchTestSupport
@testable import PlanWatchRuntime
import PlanWatchWire
import Synchronization
import Testing

/// The output store's checkpoint keeps each indicator as its typed value, not its body as well,
/// and each firing alert as its topic and `seq` alone — the alert desk's row of the same
/// checkpoint holds the alert; a restart gives back, byte for byte, the bodies that were
/// published.
@Suite struct OutputStoreCheckpointTests {
    let at = Timestamp(rfc3339: "2026-03-11T12:30:00.125+08:00")!

    /// A message as the processor publishes it: the body is the typed value's encoding.
    func published(_ alert: Alert, seq: Int64) -> OutboundMessage {
        OutboundMessage(topic: alert.topic, seq: seq, meta: .alert(alert))
    }

    func published(_ update: IndicatorUpdate, seq: Int64) -> OutboundMessage {
        OutboundMessage(topic: update.topic, seq: seq, meta: .indicator(update))
    }

    var alert: Alert {
        var a = Alert(
            fingerprint: "safety.incident/370303-0042/INC-\"7\"", rule: "safety.incident", status: .firing, level: .orange,
            region: RegionCode("370303")!, subject: ["schoolId": "370303-0042", "incidentId": "INC-\"7\""],
            summary: "放学途中发生交通事故, 学生轻微擦伤\n\t\"已送医\" \\ 检查", planRef: "工作要点 2026 §4",
            startsAt: at, updatedAt: at, causes: ["e-1", "e-2"])
        a.previousLevel = .yellow
        a.owner = "370303-0042"
        a.ackedBy = "王老师"
        a.ackedAt = at
        a.ackNote = "已处理"
        return a
    }

    var indicator: IndicatorUpdate {
        var u = IndicatorUpdate(
            indicator: "preschool.public_share", scope: .district, region: RegionCode("370303")!, value: 0.1 + 0.2,
            numerator: 3, denominator: 10, asOf: at)
        u.changedBy = ["e-3"]
        u.revision = 2
        return u
    }

    @Test func aRestoredStoreGivesBackThePublishedBodiesFromTypedValuesAndTheDesksAlerts() throws {
        let store = OutputStore()
        var resolved = alert
        resolved.fingerprint = "safety.incident/370303-0042/INC-8"
        let messages = [published(alert, seq: 7), published(indicator, seq: 8), published(resolved, seq: 9)]
        resolved.status = .resolved
        store.apply(messages + [published(resolved, seq: 10)])

        let (state, taken) = try store.checkpointState()
        let subjects = try #require(try taken?.encoded())
        let rows = subjects.rows.filter { $0.value != nil }
        #expect(rows.count >= 2)  // the alert, the indicator (and its history)
        for row in rows {
            let text = String(decoding: row.value!, as: UTF8.self)
            #expect(!text.contains("\"body\""), "row \(row.path) \(row.key) keeps the body: \(text)")
            #expect(!text.contains(alert.summary) && !text.contains("\"alert\""), "row \(row.path) \(row.key) keeps the alert: \(text)")
        }

        let again = OutputStore()
        again.restore(state, subjects: subjects)
        // Nothing is visible before its alerts are taken from the desk (no entry without a body).
        #expect(again.firingAlerts.isEmpty && again.indicators.isEmpty)
        let desk = [alert.fingerprint: alert]
        let missing = again.takeAlerts(fromDesk: { desk[$0] })
        #expect(missing == [])
        #expect(again.firingAlerts == store.firingAlerts)
        #expect(again.indicators == store.indicators)
        #expect(again.firingAlerts.map(\.body) == [String(decoding: messages[0].body, as: UTF8.self)])
        #expect(again.indicators.map(\.body) == [String(decoding: messages[1].body, as: UTF8.self)])
        #expect(again.firingAlert(alert.fingerprint)?.level == "orange")
        #expect(again.firingCounts.map(\.count) == store.firingCounts.map(\.count))
        #expect(again.snapshot(prefix: "").seq == 10)

        // The alerts completed from the desk are as their rows stored them: the next checkpoint
        // does not write them again.
        let (_, next) = try again.checkpointState()
        let rewritten = try #require(try next?.encoded()).rows.filter { $0.path == "alerts" }
        #expect(rewritten.isEmpty, "\(rewritten.map(\.key))")
    }

    /// Should the desk not have a firing alert of the store's (it cannot, short of a bug: they
    /// change together), the entry is dropped and named rather than kept without a body.
    @Test func aFiringAlertTheDeskDoesNotHaveIsDroppedAndNamed() throws {
        let store = OutputStore()
        var other = alert
        other.fingerprint = "safety.incident/370303-0042/INC-9"
        store.apply([published(alert, seq: 7), published(other, seq: 8)])
        let (state, taken) = try store.checkpointState()
        let again = OutputStore()
        again.restore(state, subjects: try #require(try taken?.encoded()))
        let desk = [alert.fingerprint: alert]
        let missing = again.takeAlerts(fromDesk: { desk[$0] })
        #expect(missing == [other.fingerprint])
        #expect(again.firingAlerts.map(\.seq) == [7])
        #expect(again.firingCounts.map(\.count) == [1])
    }

    /// What reads the store once and then follows it (the Alertmanager bridge) waits until the
    /// start has put the restored store in place — or until the runtime ended, or the reader
    /// was cancelled; a follower asked for after the end ends at once (it would wait for ever).
    @Test(.timeLimit(.minutes(1)), arguments: ["restored", "stopped", "cancelled"])
    func aReaderOfTheStoreWaitsForTheRestoreOrTheEnd(end: String) async throws {
        let store = OutputStore()
        let released = Mutex(false)
        let reader = Task {
            await store.restoredOrStopped()
            released.withLock { $0 = true }
        }
        _ = try await Wait.suspendingUntil(seconds: 30) { store.waitingForTheRestore > 0 }
        #expect(store.waitingForTheRestore == 1, "the reader did not wait")
        #expect(!released.withLock { $0 })
        switch end {
        case "restored": _ = store.takeAlerts(fromDesk: { _ in nil })
        case "stopped": store.finishFollowers()
        default: reader.cancel()
        }
        await reader.value
        #expect(released.withLock { $0 })
        if end == "stopped" {
            var late = 0
            for await _ in store.follow() { late += 1 }
            #expect(late == 0)
        }
        // Once released, later readers do not wait.
        if end != "cancelled" { await store.restoredOrStopped() }
    }

    @Test func anEntryWrittenWithItsBodyIsReadAsWritten() throws {
        // The formats of checkpoints before this one: the alert in the entry, the body next to it.
        let message = published(alert, seq: 7)
        let alertObject = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(alert)) as? [String: Any])
        var object: [String: Any] = ["topic": message.topic, "seq": 7, "alert": alertObject]
        let typedOnly = try JSONDecoder().decode(OutputStore.Entry.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(typedOnly.alert == alert && typedOnly.body == String(decoding: message.body, as: UTF8.self))
        object["body"] = "{\"as\":\"written\"}"
        let entry = try JSONDecoder().decode(OutputStore.Entry.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(entry.body == "{\"as\":\"written\"}")
        #expect(entry.alert == alert)
        #expect(entry.domain == "safety")

        // Neither a body nor a typed value: refused, with what is missing.
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(OutputStore.Entry.self, from: Data(#"{"topic":"alert.safety.370303","seq":3}"#.utf8))
        }
    }
}
