import CapitalProjects
import HandlerKit
import HandlerKitTesting
import Testing

@Suite struct CapitalProjectsScenarioTests {
    static func plan(kindergartens: Double) -> PlanSet {
        PlanSet(plans: [
            Plan(
                plan: "Zibo 2020", title: "淄博市2020年工作要点", city: RegionCode("370300")!, source: nil,
                period: .init(start: LocalDate(iso: "2020-01-01")!, end: LocalDate(iso: "2020-12-31")!),
                targets: [
                    PlanTarget(
                        indicator: "projects.completed.kindergarten", scope: .city, atLeast: kindergartens,
                        deadline: LocalDate(iso: "2020-12-31")!, planRef: "Zibo 2020 §6")
                ])
        ])
    }

    func milestone(_ id: String, _ m: String, on date: String, category: String = "kindergarten", seats: Int64 = 360,
        schedule: [String: String] = [:]) -> JSONValue
    {
        var o = JSONObject([
            ("projectId", .string(id)), ("name", "市直一幼新园"), ("category", .string(category)), ("work", "new"),
            ("milestone", .string(m)), ("actualDate", .string(date)), ("seatsAdded", .integer(seats)), ("planRef", "Zibo 2020 §6"),
        ])
        if !schedule.isEmpty { o["schedule"] = .object(JSONObject(schedule.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) }
        return .object(o)
    }

    @Test func plannedDatePassingWithNoEventRaisesTheAlertByTheClock() throws {
        var s = Scenario(CapitalProjectsHandler(), now: "2020-04-20T10:00:00+08:00")
        try s.send(EventType.projectMilestone, region: "370303",
            payload: milestone("P-2020-017", "approved", on: "2020-04-20", schedule: ["started": "2020-05-01", "toppedOut": "2020-09-01"]))
        let fp = "projects.milestone_overdue/P-2020-017/started"
        try s.advance(days: 11)  // 2020-05-01 10:00: the planned day itself is not over
        #expect(s.firing(fp) == nil)
        try s.advance(days: 1)
        let alert = try #require(s.firing(fp))
        #expect(alert.level == .yellow)
        #expect(alert.summary.contains("P-2020-017") && alert.summary.contains("开工"))
        #expect(alert.planRef == "Zibo 2020 §6")
        #expect(s.indicator("projects.overdue_milestones", "370303")?.value == 1)
        #expect(s.indicator("projects.overdue_milestones", "370300")?.value == 1)
        try s.advance(days: 30)
        #expect(s.firing(fp)?.level == .orange)
        try s.advance(days: 30)
        #expect(s.history(fp).count == 2)
        try s.send(EventType.projectMilestone, region: "370303", payload: milestone("P-2020-017", "started", on: "2020-07-01"))
        #expect(s.firing(fp) == nil)
        #expect(s.indicator("projects.overdue_milestones", "370300")?.value == 0)
    }

    @Test func aLaterScheduleMovesTheDeadline() throws {
        var s = Scenario(CapitalProjectsHandler(), now: "2020-04-20T10:00:00+08:00")
        try s.send(EventType.projectMilestone, region: "370303",
            payload: milestone("P-1", "approved", on: "2020-04-20", schedule: ["started": "2020-05-01"]))
        try s.send(EventType.projectMilestone, region: "370303",
            payload: milestone("P-1", "approved", on: "2020-04-25", schedule: ["started": "2020-06-01"]))
        try s.advance(days: 20)
        #expect(s.firing("projects.milestone_overdue/P-1/started") == nil)
        try s.advance(days: 23)
        #expect(s.firing("projects.milestone_overdue/P-1/started") != nil)
    }

    @Test func completionAndSeatsAreCountedOnceByCategoryAndCity() throws {
        var s = Scenario(CapitalProjectsHandler(), now: "2020-05-01T10:00:00+08:00")
        try s.send(EventType.projectMilestone, region: "370303", payload: milestone("P-1", "completed", on: "2020-05-01"))
        try s.send(EventType.projectMilestone, region: "370305", payload: milestone("P-2", "completed", on: "2020-05-01", category: "primary", seats: 1350))
        try s.send(EventType.projectMilestone, region: "370303", payload: milestone("P-1", "completed", on: "2020-05-02"))
        #expect(s.indicator("projects.completed.kindergarten", "370303")?.value == 1)
        #expect(s.indicator("projects.completed.school", "370305")?.value == 1)
        #expect(s.indicator("projects.completed", "370300")?.value == 2)
        #expect(s.indicator("projects.seats_added", "370300") == nil)
        try s.send(EventType.projectMilestone, region: "370305", payload: milestone("P-2", "inUse", on: "2020-09-01", category: "primary", seats: 1350))
        #expect(s.indicator("projects.seats_added", "370300")?.value == 1350)
        #expect(s.indicator("projects.completed", "370300")?.value == 2)
    }

    @Test func targetAtRiskIsYellowThenOrangeAsTimePassesAndResolvesWhenBackOnTrack() throws {
        // 004 §6: 103 kindergartens in 2020.
        var s = Scenario(CapitalProjectsHandler(), now: "2020-02-20T10:00:00+08:00")
        s.plans = Self.plan(kindergartens: 103)
        for n in 0..<10 {
            try s.send(EventType.projectMilestone, region: "370303", payload: milestone("P-\(n)", "completed", on: "2020-02-20"))
        }
        let fp = "projects.target_at_risk/Zibo 2020/projects.completed.kindergarten/370300"
        // 10 of 103 (9.7 %) with 13.7 % of the year gone: behind by 4 points.
        #expect(s.indicator("projects.completed.kindergarten", "370300")?.status == .atRisk)
        #expect(s.firing(fp)?.level == .yellow)
        try s.advance(days: 40)  // 31 March: 24.6 % of the year, still 10
        #expect(s.firing(fp)?.level == .orange)
        for n in 10..<26 {
            try s.send(EventType.projectMilestone, region: "370303", payload: milestone("P-\(n)", "completed", on: "2020-03-31"))
        }
        // 26 of 103 by 31 March: on track again.
        #expect(s.indicator("projects.completed.kindergarten", "370300")?.status == .onTrack)
        #expect(s.firing(fp) == nil)
        // The first completion alone was 12.7 points behind (orange), ten of them 4 (yellow);
        // March passing made it orange; the catch-up yellow, then resolved. Nothing repeated.
        #expect(s.history(fp).map(\.level) == [.orange, .yellow, .orange, .yellow, .yellow])
        #expect(s.history(fp).map(\.status) == [.firing, .firing, .firing, .firing, .resolved])
    }
}
