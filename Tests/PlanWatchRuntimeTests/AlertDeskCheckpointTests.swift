import Foundation
import HandlerKit
import PlanWatchModel
@testable import PlanWatchRuntime
import Testing

/// The alert desk checkpoints each open alert once, its time to acknowledge inside it; the
/// deadlines it escalates by are rebuilt from those rows, not stored beside them.
@Suite struct AlertDeskCheckpointTests {
    let at = Timestamp(rfc3339: "2026-03-11T08:00:00+08:00")!

    func tracked(_ id: String, dueAt: Int64?) -> AlertDesk.Tracked {
        let alert = Alert(
            fingerprint: "safety.incident/\(id)", rule: "safety.incident", status: .firing, level: .blue, region: RegionCode("370303")!,
            subject: ["incidentId": id], summary: "校园安全事件 \(id)", planRef: "City 2023 §22", startsAt: at, updatedAt: at, causes: ["e-\(id)"])
        return AlertDesk.Tracked(alert: alert, ownerLevel: .school, dueAt: dueAt)
    }

    @Test func eachOpenAlertIsOneRowAndItsDeadlineComesBackFromIt() throws {
        var state = AlertDesk.State()
        for (id, due) in [("A", Int64(3_000)), ("B", 1_000), ("C", 2_000)] {
            state.tracked["safety.incident/\(id)"] = tracked(id, dueAt: due)
            state.deadlines.insert(DeadlineHeap.Entry(due: due, key: "safety.incident/\(id)"))
        }
        // Acknowledged: no time runs; a limit replaced by a later one stays in the heap, moot.
        state.tracked["safety.incident/D"] = tracked("D", dueAt: nil)
        state.deadlines.insert(DeadlineHeap.Entry(due: 500, key: "safety.incident/D"))

        let (json, rows) = try checkpointed(state)
        #expect(Set(rows.map(\.path)) == ["tracked"])
        #expect(rows.count == 4)
        var back = try restored(AlertDesk.State.self, json, rows)
        #expect(back == state)
        #expect(back.deadlines.popDue(now: 2_500).map(\.key) == ["safety.incident/B", "safety.incident/C"])
        #expect(back.deadlines.popDue(now: 10_000).map(\.key) == ["safety.incident/A"])
    }

    /// Before 0.19 the deadlines were rows of their own: read back, they are not used (the
    /// alerts' own limits are), and the next checkpoint writes the desk whole, without them.
    @Test func aDeskCheckpointedWithItsDeadlinesAsRowsReadsAndIsRewrittenWhole() throws {
        let placeholder = #""subjects in rows""#
        let json = Data(#"{"tracked":\#(placeholder),"deadlines":{"pending":\#(placeholder)}}"#.utf8)
        let alert = try JSONWriter.encode(tracked("A", dueAt: 3_000))
        let rows = [
            SubjectRow(path: "tracked", key: "safety.incident/A", value: Data(alert)),
            SubjectRow(path: "deadlines.pending", key: "safety.incident/A", value: Data("[1000,3000]".utf8)),
        ]
        var coding = SubjectCoding()
        var state = try #require(
            try coding.restore(AlertDesk.State.self, from: json, subjects: HandlerSubjects(full: true, rows: rows)))
        #expect(state.tracked.count == 1)
        #expect(state.deadlines.popDue(now: 10_000).map(\.due) == [3_000])
        let next = try #require(try coding.encode(state).subjects)
        #expect(next.toWrite.full, "the stored deadline rows are replaced")
    }
}
