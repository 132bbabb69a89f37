import HandlerKit
import HandlerKitTesting
import OffCampusTraining
import Testing

/// City 2023 §7 "积极开展常态巡查, 强化联合执法机制, 加大对隐形变异培训查处力度";
/// Zibo 2020 §26 "严肃查处中小学在职教师从事有偿补课".
@Suite struct OffCampusTrainingScenarioTests {
    static func patrol(_ id: String, institution: String = "JG-370303-0117", date: String, violations: [String] = [], status: String? = nil, rectifyBy: String? = nil)
        -> JSONValue
    {
        var o = JSONObject([
            ("inspectionId", .string(id)), ("institutionId", .string(institution)), ("institutionName", "启航教育"),
            ("date", .string(date)), ("violations", .array(violations.map { .string($0) })),
        ])
        if let status { o["status"] = .string(status) }
        if let rectifyBy { o["rectifyBy"] = .string(rectifyBy) }
        return .object(o)
    }

    /// 2023's May Day: 29 April to 3 May off, Sunday 23 April and Saturday 6 May worked (调休).
    static let calendar2023 = WorkCalendar(years: [
        .init(year: 2023, holidays: [
            .init(name: "劳动节", from: LocalDate(iso: "2023-04-29")!, to: LocalDate(iso: "2023-05-03")!,
                makeUpWorkdays: [LocalDate(iso: "2023-04-23")!, LocalDate(iso: "2023-05-06")!])
        ])
    ])

    @Test func aViolationNotRectifiedByItsDateIsOverdueAndTurnsOrangeTenWorkingDaysLater() throws {
        var s = Scenario(OffCampusTrainingHandler(), now: "2023-04-03T09:00:00+08:00")
        s.calendar = Self.calendar2023
        try s.send(TrainingInspection.type, region: "370303",
            payload: Self.patrol("XC-1", date: "2023-04-03", violations: ["hiddenVariant", "aheadOfCurriculum"], rectifyBy: "2023-04-14"))
        #expect(s.indicator("training.open_violations", "370303")?.value == 1)
        try s.advance(days: 12)  // Saturday 2023-04-15
        let overdue = try #require(s.firing("training.violation_overdue/XC-1"))
        #expect(overdue.level == .yellow && overdue.planRef == "City 2023 §7")
        #expect(overdue.summary == "启航教育(JG-370303-0117) 存在隐形变异培训、超标超前培训问题, 已过整改期限(2023-04-14)仍未整改")
        // Ten working days after the 15th: the make-up Sunday (23 April) counts, so the tenth is the 27th.
        try s.advance(days: 12)  // 2023-04-27 09:00
        #expect(s.firing("training.violation_overdue/XC-1")?.level == .yellow)
        try s.advance(hours: 16)  // 2023-04-28 01:00
        #expect(s.firing("training.violation_overdue/XC-1")?.level == .orange)
        try s.send(TrainingInspection.type, region: "370303",
            payload: Self.patrol("XC-1", date: "2023-04-03", violations: ["hiddenVariant", "aheadOfCurriculum"], status: "rectified", rectifyBy: "2023-04-14"))
        #expect(s.firing("training.violation_overdue/XC-1") == nil)
        #expect(s.indicator("training.open_violations", "370300")?.value == 0)
    }

    @Test func everyPatrolCountsAndATargetMayCountOnlyThoseThatFoundViolations() throws {
        var s = Scenario(OffCampusTrainingHandler(), now: "2023-03-01T09:00:00+08:00")
        s.plans = PlanSet(plans: [
            Plan(
                plan: "City 2023", title: "t", city: RegionCode("370300")!, source: nil,
                period: .init(start: LocalDate(iso: "2023-01-01")!, end: LocalDate(iso: "2023-12-31")!),
                targets: [
                    PlanTarget(indicator: "training.open_violations", scope: .city, atMost: 0, deadline: LocalDate(iso: "2023-12-31")!, planRef: "City 2023 §7")
                ])
        ])
        try s.send(TrainingInspection.type, region: "370303", payload: Self.patrol("XC-2", date: "2023-03-01"))
        try s.send(TrainingInspection.type, region: "370305", payload: Self.patrol("XC-3", institution: "JG-370305-0002", date: "2023-03-01"))
        #expect(s.indicator("training.inspections", "370300")?.value == 2)
        try s.advance(hours: 16)  // levels are judged once their first day of data is over
        #expect(s.indicator("training.open_violations", "370300")?.status == .met)
        try s.send(TrainingInspection.type, region: "370305",
            payload: Self.patrol("XC-4", institution: "JG-370305-0002", date: "2023-03-02", violations: ["paidTutoring"], rectifyBy: "2023-03-10"))
        #expect(s.indicator("training.open_violations", "370300")?.value == 1)
        #expect(s.indicator("training.open_violations", "370300")?.status != .met)
        try s.advance(days: 10)
        #expect(s.firing("training.violation_overdue/XC-4")?.planRef == "Zibo 2020 §26")
    }

    @Test func violationsAreCheckedOneByOne() {
        var s = Scenario(OffCampusTrainingHandler(), now: "2023-03-01T09:00:00+08:00")
        #expect(throws: Rejection(.schemaViolation, "payload.violations[1]: \"hiddenVariant\" appears twice")) {
            try s.send(TrainingInspection.type, region: "370303",
                payload: Self.patrol("X", date: "2023-03-01", violations: ["hiddenVariant", "hiddenVariant"], rectifyBy: "2023-03-10"))
        }
        #expect(throws: Rejection(.schemaViolation, "payload.violations[0]: \"gambling\" is not one of hiddenVariant, paidTutoring, aheadOfCurriculum, unlicensed, other")) {
            try s.send(TrainingInspection.type, region: "370303", payload: Self.patrol("X", date: "2023-03-01", violations: ["gambling"], rectifyBy: "2023-03-10"))
        }
        #expect(throws: Rejection(.schemaViolation, "payload.rectifyBy: required when violations are found (the date they must be rectified by)")) {
            try s.send(TrainingInspection.type, region: "370303", payload: Self.patrol("X", date: "2023-03-01", violations: ["unlicensed"]))
        }
    }
}
