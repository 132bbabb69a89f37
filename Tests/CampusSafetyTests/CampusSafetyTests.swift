import CampusSafety
import HandlerKit
import PlanWatchTestSupport
import Testing

@Suite struct CampusSafetyTests {
    let handler = CampusSafetyHandler()

    func event(_ id: String, status: String = "reported", affected: Int64 = 35, injured: Int64 = 0, deaths: Int64 = 0,
        category: String = "foodPoisoning") throws -> Event
    {
        let (topic, body) = Fixtures.incident(id: id, status: status, affected: affected, injured: injured, deaths: deaths, category: category)
        return try EventDecoder().decode(topic: topic, body: body).get()
    }

    func alerts(_ outputs: [HandlerOutput]) -> [Alert] {
        outputs.compactMap { if case .alert(let a) = $0 { a } else { nil } }
    }

    let context = HandlerContext(now: Timestamp(rfc3339: "2026-03-11T12:31:00+08:00")!)

    @Test(arguments: [
        (Int64(100), Int64(0), Int64(0), "other", Alert.Level.red),
        (5, 0, 3, "other", .red),
        (30, 0, 0, "other", .orange),
        (2, 10, 0, "other", .orange),
        (2, 0, 1, "other", .orange),
        (10, 0, 0, "other", .yellow),
        (2, 1, 0, "other", .yellow),
        (1, 0, 0, "drowning", .yellow),
        (1, 0, 0, "bullying", .yellow),
        (1, 0, 0, "sexualAbuse", .yellow),
        (9, 0, 0, "fire", .blue),
    ])
    func severityTableOfDomainMd(affected: Int64, injured: Int64, deaths: Int64, category: String, level: Alert.Level) throws {
        var state = handler.makeInitialState()
        let out = alerts(try handler.handle(try event("e", affected: affected, injured: injured, deaths: deaths, category: category), state: &state, context: context))
        #expect(out.map(\.level) == [level])
    }

    @Test func incidentFiresOnceWithAChineseSummaryNamingTheSchool() throws {
        var state = handler.makeInitialState()
        let first = alerts(try handler.handle(try event("e1"), state: &state, context: context))
        #expect(first.count == 1)
        let alert = try #require(first.first)
        #expect(alert.fingerprint == "safety.incident/INC-2026-0311")
        #expect(alert.status == .firing && alert.level == .orange && alert.previousLevel == nil)
        #expect(alert.summary.contains("370303-0042") && alert.summary.contains("食物中毒") && alert.summary.contains("35人"))
        #expect(alert.topic == "alert.safety.370303")
        #expect(alert.causes == ["e1"])
        // The same numbers again (status responding): nothing new to say.
        #expect(try handler.handle(try event("e2", status: "responding"), state: &state, context: context).isEmpty)
    }

    @Test func updateThatChangesSeverityChangesTheLevel() throws {
        var state = handler.makeInitialState()
        _ = try handler.handle(try event("e1"), state: &state, context: context)
        let raised = alerts(try handler.handle(try event("e2", affected: 120), state: &state, context: context))
        #expect(raised.map(\.level) == [.red])
        #expect(raised.first?.previousLevel == .orange)
    }

    @Test func resolutionResolvesAndIsNotRepeated() throws {
        var state = handler.makeInitialState()
        _ = try handler.handle(try event("e1"), state: &state, context: context)
        let resolved = alerts(try handler.handle(try event("e2", status: "resolved"), state: &state, context: context))
        #expect(resolved.map(\.status) == [.resolved])
        #expect(resolved.first?.endsAt?.description == "2026-03-12T09:00:00+08:00")
        #expect(try handler.handle(try event("e3", status: "resolved"), state: &state, context: context).isEmpty)
        #expect(state.alerts.firing.isEmpty)
    }
}
