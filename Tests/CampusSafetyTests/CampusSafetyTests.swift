import CampusSafety
import HandlerKit
import HandlerKitTesting
import PlanWatchTestSupport
import PlanWatchWire
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

    /// DOMAIN.md: "Every incident raises its alert, including one first reported already resolved".
    @Test func anIncidentFirstReportedResolvedStillFiresAtItsLevelAndResolves() throws {
        var state = handler.makeInitialState()
        let out = alerts(try handler.handle(try event("late-1", status: "resolved", affected: 3, deaths: 3), state: &state, context: context))
        #expect(out.count == 2)
        #expect(out[0].status == .firing && out[0].level == .red && out[0].summary.contains("死亡3人"))
        #expect(out[1].status == .resolved && out[1].fingerprint == out[0].fingerprint)
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

@Suite struct CampusSafetyScenarioTests {
    func incident(_ id: String, school: String = "370303-0042", category: String = "other", status: String = "reported",
        affected: Int64 = 2, injured: Int64 = 0, reportedAt: String) -> JSONValue
    {
        .object([
            "incidentId": .string(id), "schoolId": .string(school), "category": .string(category), "status": .string(status),
            "affected": .integer(affected), "injured": .integer(injured), "deaths": 0, "reportedAt": .string(reportedAt),
        ])
    }

    @Test func unresolvedOrangeIsOverdueAfter24HoursOneLevelUp() throws {
        var s = Scenario(CampusSafetyHandler(), now: "2026-03-11T12:30:00+08:00")
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("INC-1", affected: 35, reportedAt: "2026-03-11T12:30:00+08:00"), occurredAt: "2026-03-11T12:30:00+08:00")
        try s.advance(hours: 23)
        #expect(s.firing("safety.incident_overdue/INC-1") == nil)
        try s.advance(hours: 2)
        let overdue = try #require(s.firing("safety.incident_overdue/INC-1"))
        #expect(overdue.level == .red)
        #expect(overdue.summary.contains("24小时"))
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("INC-1", status: "resolved", affected: 35, reportedAt: "2026-03-11T12:30:00+08:00"), occurredAt: "2026-03-11T12:30:00+08:00")
        #expect(s.firing("safety.incident_overdue/INC-1") == nil)
        #expect(s.firing("safety.incident/INC-1") == nil)
    }

    @Test func unresolvedYellowIsOverdueAfter72Hours() throws {
        var s = Scenario(CampusSafetyHandler(), now: "2026-03-11T12:30:00+08:00")
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("INC-2", category: "bullying", reportedAt: "2026-03-11T12:30:00+08:00"), occurredAt: "2026-03-11T12:30:00+08:00")
        try s.advance(hours: 71)
        #expect(s.firing("safety.incident_overdue/INC-2") == nil)
        try s.advance(hours: 2)
        #expect(s.firing("safety.incident_overdue/INC-2")?.level == .orange)
    }

    @Test func threeIncidentsAtOneSchoolWithin30DaysAndTheWindowClosing() throws {
        var s = Scenario(CampusSafetyHandler(), now: "2026-03-01T09:00:00+08:00")
        let fp = "safety.repeat_school/370303-0042"
        for (i, day) in ["2026-03-01", "2026-03-10"].enumerated() {
            try s.send(EventType.safetyIncident, region: "370303", payload: incident("R-\(i)", reportedAt: "\(day)T09:00:00+08:00"), occurredAt: "\(day)T09:00:00+08:00")
        }
        #expect(s.firing(fp) == nil)
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("R-2", reportedAt: "2026-03-25T09:00:00+08:00"), occurredAt: "2026-03-25T09:00:00+08:00")
        #expect(s.firing(fp)?.level == .orange)
        #expect(s.firing(fp)?.summary.contains("3起") == true)
        try s.advance(days: 6)  // 2026-03-31: the first incident has left the window
        #expect(s.firing(fp) == nil)
        #expect(s.history(fp).count == 2)
    }

    @Test func foodPoisoningAtTwoSchoolsOfOneDistrictWithin48HoursIsRed() throws {
        var s = Scenario(CampusSafetyHandler(), now: "2026-03-11T12:30:00+08:00")
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("F-1", school: "370303-0042", category: "foodPoisoning", reportedAt: "2026-03-11T12:30:00+08:00"), occurredAt: "2026-03-11T12:30:00+08:00")
        try s.send(EventType.safetyIncident, region: "370305", payload: incident("F-2", school: "370305-0001", category: "foodPoisoning", reportedAt: "2026-03-11T13:00:00+08:00"), occurredAt: "2026-03-11T13:00:00+08:00")
        #expect(s.alerts.allSatisfy { $0.rule != "safety.food_cluster" })
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("F-3", school: "370303-0007", category: "foodPoisoning", reportedAt: "2026-03-12T18:00:00+08:00"), occurredAt: "2026-03-12T18:00:00+08:00")
        let cluster = try #require(s.firing("safety.food_cluster/370303"))
        #expect(cluster.level == .red)
        #expect(cluster.summary.contains("370303-0042") && cluster.summary.contains("370303-0007"))
        try s.advance(hours: 48)
        #expect(s.firing("safety.food_cluster/370303") == nil)
    }

    @Test func openIncidentsByLevelAndIncidentsOfTheLast30Days() throws {
        var s = Scenario(CampusSafetyHandler(), now: "2026-03-11T12:30:00+08:00")
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("O-1", affected: 35, reportedAt: "2026-03-11T12:30:00+08:00"), occurredAt: "2026-03-11T12:30:00+08:00")
        try s.send(EventType.safetyIncident, region: "370302", payload: incident("O-2", category: "drowning", reportedAt: "2026-03-11T12:40:00+08:00"), occurredAt: "2026-03-11T12:40:00+08:00")
        #expect(s.indicator("safety.open_incidents", "370300")?.value == 2)
        #expect(s.indicator("safety.open_incidents.orange", "370303")?.value == 1)
        #expect(s.indicator("safety.incidents_30d", "370300")?.value == 2)
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("O-1", status: "resolved", affected: 35, reportedAt: "2026-03-11T12:30:00+08:00"), occurredAt: "2026-03-11T12:30:00+08:00")
        #expect(s.indicator("safety.open_incidents", "370300")?.value == 1)
        #expect(s.indicator("safety.incidents_30d", "370300")?.value == 2)
        try s.advance(days: 31)
        #expect(s.indicator("safety.incidents_30d", "370300")?.value == 0)
    }
}

/// A deployment states the overdue limit in working days: the Spring Festival week does not count.
@Suite struct IncidentOverdueInWorkingDaysTests {
    @Test func aYellowIncidentBeforeSpringFestivalIsOverdueTwoWorkingDaysLater() throws {
        var s = Scenario(CampusSafetyHandler(), now: "2026-02-13T10:00:00+08:00")
        s.calendar = WorkCalendar(years: [
            .init(year: 2026, holidays: [
                .init(name: "春节", from: LocalDate(iso: "2026-02-15")!, to: LocalDate(iso: "2026-02-23")!,
                      makeUpWorkdays: [LocalDate(iso: "2026-02-14")!, LocalDate(iso: "2026-02-28")!])
            ])
        ])
        s.timings = RuleTimings(["safety.incident_overdue.yellowBlue": RuleDuration(2, .workingDays)])
        try s.send(
            EventType.safetyIncident, region: "370303",
            payload: .object([
                "incidentId": "INC-SF", "schoolId": "370303-0042", "category": "bullying", "status": "reported", "affected": 1,
                "injured": 0, "deaths": 0, "reportedAt": "2026-02-13T10:00:00+08:00",
            ]))
        // Working days after Friday the 13th: Saturday the 14th (调休), then the 24th.
        try s.advance(seconds: (11 * 24 + 13) * 3600)  // 2026-02-24T23:00
        #expect(s.firing("safety.incident_overdue/INC-SF") == nil)
        try s.advance(hours: 2)
        let overdue = try #require(s.firing("safety.incident_overdue/INC-SF"))
        #expect(overdue.level == .orange)
        #expect(overdue.summary.contains("超过2个工作日仍未处置完毕"))
        #expect(overdue.startsAt.description == "2026-02-25T00:00:00+08:00")
    }
}

/// An incident update that arrives after a newer one does not undo it.
@Suite struct LateIncidentUpdateTests {
    @Test func aStaleReportedUpdateDoesNotReopenAResolvedIncident() throws {
        var s = Scenario(CampusSafetyHandler(), now: "2026-03-11T12:30:00+08:00")
        func update(_ status: String, at: String, id: String) throws {
            try s.send(
                EventType.safetyIncident, region: "370303",
                payload: .object([
                    "incidentId": "INC-LATE", "schoolId": "370303-0042", "category": "foodPoisoning", "status": .string(status),
                    "affected": 35, "injured": 0, "deaths": 0, "reportedAt": "2026-03-11T12:30:00+08:00",
                ]), occurredAt: at, id: id)
        }
        try update("reported", at: "2026-03-11T12:30:00+08:00", id: "r")
        try update("resolved", at: "2026-03-12T09:00:00+08:00", id: "x")
        try update("responding", at: "2026-03-11T15:00:00+08:00", id: "stale")
        #expect(s.firing("safety.incident/INC-LATE") == nil)
        #expect(s.indicator("safety.open_incidents", "370303")?.value == 0)
        let explained = try #require(s.handler.explain("safety.incidents_30d", region: RegionCode("370300")!, state: s.state))
        #expect(explained.contributions.map(\.subject) == ["INC-LATE"])
    }
}
