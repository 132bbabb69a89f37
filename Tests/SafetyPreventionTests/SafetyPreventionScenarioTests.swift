import HandlerKit
import HandlerKitTesting
import SafetyPrevention
import Testing

/// Zibo 2020 §30 "深入开展安全隐患排查整治, 定期组织应急疏散演练"; 003 §14 校车隐患排查与整改.
@Suite struct SafetyPreventionScenarioTests {
    static func hazard(_ id: String, school: String = "370303-0042", kind: String = "fire", found: String, rectifyBy: String, status: String = "found")
        -> JSONValue
    {
        .object([
            "hazardId": .string(id), "schoolId": .string(school), "kind": .string(kind), "found": .string(found),
            "rectifyBy": .string(rectifyBy), "status": .string(status), "description": "灭火器过期",
        ])
    }

    static func drill(_ id: String, school: String, date: String) -> JSONValue {
        .object(["drillId": .string(id), "schoolId": .string(school), "kind": "evacuation", "date": .string(date), "participants": 1200])
    }

    static func census(_ school: String) -> JSONValue {
        .object([
            "schoolId": .string(school), "level": "primary", "ownership": "public", "term": "2020-spring",
            "classes": .array([.object(["classId": "1-1", "size": 45])]),
        ])
    }

    @Test func aHazardNotRectifiedByItsDateIsOverdueYellowThenOrangeUntilRectified() throws {
        var s = Scenario(SafetyPreventionHandler(), now: "2020-03-02T09:00:00+08:00")
        try s.send(SafetyHazard.type, region: "370303", payload: Self.hazard("H-1", found: "2020-03-02", rectifyBy: "2020-03-16"))
        #expect(s.indicator("safety.open_hazards", "370303")?.value == 1)
        #expect(s.indicator("safety.hazards_found", "370300")?.value == 1)
        try s.send(SafetyHazard.type, region: "370303", payload: Self.hazard("H-1", found: "2020-03-02", rectifyBy: "2020-03-16", status: "rectifying"))
        #expect(s.firing("safety.hazard_overdue/H-1") == nil)
        try s.advance(days: 15)  // 2020-03-17
        let overdue = try #require(s.firing("safety.hazard_overdue/H-1"))
        #expect(overdue.level == .yellow && overdue.planRef == "Zibo 2020 §30")
        #expect(overdue.summary == "370303-0042 消防隐患(H-1)已过整改期限(2020-03-16)仍未整改")
        #expect(s.indicator("safety.overdue_hazards", "370300")?.value == 1)
        try s.advance(days: 30)
        #expect(s.firing("safety.hazard_overdue/H-1")?.level == .orange)
        var done = Self.hazard("H-1", found: "2020-03-02", rectifyBy: "2020-03-16", status: "rectified")
        if case .object(var o) = done { o["rectifiedOn"] = "2020-04-20"; done = .object(o) }
        try s.send(SafetyHazard.type, region: "370303", payload: done)
        #expect(s.firing("safety.hazard_overdue/H-1") == nil)
        #expect(s.history("safety.hazard_overdue/H-1").last?.summary == "370303-0042 消防隐患(H-1)已于2020-04-20整改完毕")
        #expect(s.indicator("safety.open_hazards", "370303")?.value == 0)
        #expect(s.indicator("safety.overdue_hazards", "370303")?.value == 0)
    }

    @Test func aSchoolBusHazardCitesTheDistrictPlansAndAnExtensionEndsTheOverdue() throws {
        var s = Scenario(SafetyPreventionHandler(), now: "2024-09-02T09:00:00+08:00")
        try s.send(SafetyHazard.type, region: "370305", payload: Self.hazard("H-BUS", school: "370305-0007", kind: "schoolBus", found: "2024-09-02", rectifyBy: "2024-09-06"))
        try s.advance(days: 5)
        let overdue = try #require(s.firing("safety.hazard_overdue/H-BUS"))
        #expect(overdue.planRef == "District plans (003) §14" && overdue.summary.contains("校车隐患"))
        try s.send(SafetyHazard.type, region: "370305", payload: Self.hazard("H-BUS", school: "370305-0007", kind: "schoolBus", found: "2024-09-02", rectifyBy: "2024-09-30", status: "rectifying"))
        #expect(s.firing("safety.hazard_overdue/H-BUS") == nil)
        #expect(s.indicator("safety.overdue_hazards", "370305")?.value == 0)
        #expect(s.indicator("safety.open_hazards", "370305")?.value == 1)
        try s.advance(days: 25)  // past the new date
        #expect(s.firing("safety.hazard_overdue/H-BUS")?.level == .yellow)
    }

    /// "定期组织应急疏散演练": a drill at every school each term.
    @Test func aTermThatEndsWithoutADrillRaisesDrillMissingUntilTheSchoolHoldsOne() throws {
        var s = Scenario(SafetyPreventionHandler(), now: "2020-02-17T08:00:00+08:00")
        s.plans = PlanSet(plans: [
            Plan(
                plan: "Zibo 2020", title: "2020年工作要点", city: RegionCode("370300")!, source: nil,
                period: .init(start: LocalDate(iso: "2020-01-01")!, end: LocalDate(iso: "2020-12-31")!),
                targets: [
                    PlanTarget(indicator: "safety.drill_coverage", scope: .city, atLeast: 1, deadline: LocalDate(iso: "2020-07-31")!, planRef: "Zibo 2020 §30")
                ])
        ])
        for school in ["370303-P001", "370303-P002", "370305-J001"] { try s.send(EventType.enrolmentCensus, region: String(school.prefix(6)), payload: Self.census(school)) }
        try s.send(SafetyDrill.type, region: "370303", payload: Self.drill("D-1", school: "370303-P001", date: "2020-03-20"))
        try s.send(SafetyDrill.type, region: "370303", payload: Self.drill("D-1", school: "370303-P001", date: "2020-03-20"))  // the same drill again
        try s.send(SafetyDrill.type, region: "370305", payload: Self.drill("D-2", school: "370305-J001", date: "2020-05-12"))
        let coverage = try #require(s.indicator("safety.drill_coverage", "370300"))
        #expect(coverage.numerator == 2 && coverage.denominator == 3)
        #expect(s.indicator("safety.drill_coverage", "370303")?.numerator == 1)
        try s.advance(days: 166)  // 2020-08-01: the spring term is over
        let missing = try #require(s.firing("safety.drill_missing/370303-P002"))
        #expect(missing.level == .yellow && missing.summary == "370303-P002 2020年春季学期未开展应急疏散演练")
        #expect(missing.subject["term"] == "2020-spring" && missing.planRef == "Zibo 2020 §30")
        #expect(s.firing("safety.drill_missing/370303-P001") == nil)
        #expect(s.indicator("safety.drill_coverage", "370300")?.numerator == 0)
        // The spring target's verdict is final: two of three schools.
        #expect(s.indicator("safety.drill_coverage", "370300")?.status == .offTrack)
        try s.send(SafetyDrill.type, region: "370303", payload: Self.drill("D-3", school: "370303-P002", date: "2020-09-10"))
        #expect(s.firing("safety.drill_missing/370303-P002") == nil)
        #expect(s.indicator("safety.drill_coverage", "370303")?.value == 0.5)
    }

    @Test func hazardsFoundAreAFlowThatATargetMayFilterByKind() throws {
        var s = Scenario(SafetyPreventionHandler(), now: "2020-03-02T09:00:00+08:00")
        s.plans = PlanSet(plans: [
            Plan(
                plan: "Zibo 2020", title: "t", city: RegionCode("370300")!, source: nil,
                period: .init(start: LocalDate(iso: "2020-01-01")!, end: LocalDate(iso: "2020-12-31")!),
                targets: [
                    PlanTarget(
                        indicator: "safety.hazards_found", series: "safety.hazards_found.food", scope: .city, filter: ["kind": ["food"]],
                        atLeast: 2, deadline: LocalDate(iso: "2020-12-31")!, planRef: "Zibo 2020 §30")
                ])
        ])
        try s.send(SafetyHazard.type, region: "370303", payload: Self.hazard("F-1", kind: "food", found: "2020-03-02", rectifyBy: "2020-03-03"))
        try s.send(SafetyHazard.type, region: "370303", payload: Self.hazard("B-1", kind: "building", found: "2020-03-02", rectifyBy: "2020-06-03"))
        #expect(s.indicator("safety.hazards_found.food", "370300")?.value == 1)
        try s.send(SafetyHazard.type, region: "370304", payload: Self.hazard("F-2", school: "370304-0001", kind: "food", found: "2020-03-02", rectifyBy: "2020-03-03"))
        #expect(s.indicator("safety.hazards_found.food", "370300")?.status == .met)
        #expect(s.indicator("safety.hazards_found", "370300")?.value == 3)
    }

    @Test func badHazardsAndDrillsAreRejectedWithTheirField() {
        var s = Scenario(SafetyPreventionHandler(), now: "2020-03-02T09:00:00+08:00")
        #expect(throws: Rejection(.schemaViolation, "payload.kind: \"gas\" is not one of building, fire, food, schoolBus, surroundings, other")) {
            try s.send(SafetyHazard.type, region: "370303", payload: Self.hazard("H", kind: "gas", found: "2020-03-02", rectifyBy: "2020-03-03"))
        }
        #expect(throws: Rejection(.schemaViolation, "payload.participants: 0 is outside 1...100000")) {
            try s.send(SafetyDrill.type, region: "370303",
                payload: .object(["drillId": "D", "schoolId": "S", "kind": "fire", "date": "2020-03-02", "participants": 0]))
        }
    }
}
