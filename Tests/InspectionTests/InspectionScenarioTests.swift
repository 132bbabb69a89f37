import HandlerKit
import HandlerKitTesting
import Inspection
import Testing

/// 003 §25 "每年对全区1/5(约50所)的幼儿园开展办园行为督导评估"; Zibo 2020 §31; City 2023 §19.
@Suite struct InspectionScenarioTests {
    static func census(_ school: String) -> JSONValue {
        .object([
            "schoolId": .string(school), "level": "preschool", "ownership": "public", "term": "2024-spring",
            "classes": .array([.object(["classId": "1-1", "size": 30])]),
        ])
    }

    static func visit(
        _ id: String, school: String, level: String = "preschool", type: String = "kindergartenConduct", date: String, findings: Int64 = 0,
        rectifyBy: String? = nil, rectifiedOn: String? = nil
    ) -> JSONValue {
        var o = JSONObject([
            ("visitId", .string(id)), ("schoolId", .string(school)), ("level", .string(level)), ("inspectionType", .string(type)),
            ("date", .string(date)), ("findings", .integer(findings)),
        ])
        if let rectifyBy { o["rectifyBy"] = .string(rectifyBy) }
        if let rectifiedOn { o["rectifiedOn"] = .string(rectifiedOn) }
        return .object(o)
    }

    static let plan003 = PlanSet(plans: [
        Plan(
            plan: "District plans (003)", title: "教育高质量发展三年行动计划", city: RegionCode("370300")!, source: nil,
            period: .init(start: LocalDate(iso: "2024-01-01")!, end: LocalDate(iso: "2024-12-31")!),
            districts: [RegionCode("370303")!, RegionCode("370305")!],
            targets: [
                PlanTarget(
                    indicator: "inspection.kindergarten_coverage", scope: .eachDistrict, atLeast: 0.2, deadline: LocalDate(iso: "2024-12-31")!,
                    planRef: "District plans (003) §25")
            ])
    ])

    /// About 250 kindergartens, 50 of them inspected: the fifth 003 asks for, met; the count
    /// starts again in January ("每年").
    @Test func aFifthOfTheKindergartensInspectedThisYearMeets003AndTheCountStartsAgainInJanuary() throws {
        var s = Scenario(InspectionHandler(), now: "2024-03-01T09:00:00+08:00")
        s.plans = Self.plan003
        for n in 0..<250 { try s.send(EventType.enrolmentCensus, region: "370303", payload: Self.census("370303-K\(n)")) }
        for n in 0..<49 { try s.send(InspectionVisit.type, region: "370303", payload: Self.visit("V-\(n)", school: "370303-K\(n)", date: "2024-04-10")) }
        // Another kind of inspection, or a second visit of the same kindergarten, adds nothing.
        try s.send(InspectionVisit.type, region: "370303", payload: Self.visit("V-x", school: "370303-K100", type: "comprehensive", date: "2024-04-11"))
        try s.send(InspectionVisit.type, region: "370303", payload: Self.visit("V-y", school: "370303-K1", date: "2024-05-11"))
        try s.advance(hours: 16)  // levels are judged once their first day of data is over
        var coverage = try #require(s.indicator("inspection.kindergarten_coverage", "370303"))
        #expect(coverage.numerator == 49 && coverage.denominator == 250)
        #expect(coverage.status != .met)
        try s.send(InspectionVisit.type, region: "370303", payload: Self.visit("V-49", school: "370303-K49", date: "2024-06-10"))
        coverage = try #require(s.indicator("inspection.kindergarten_coverage", "370303"))
        #expect(coverage.value == 0.2 && coverage.status == .met)
        #expect(coverage.target?.planRef == "District plans (003) §25")
        #expect(s.indicator("inspection.kindergarten_coverage", "370300")?.numerator == 50)
        try s.advance(days: 306)  // 2025-01-01
        #expect(s.indicator("inspection.kindergarten_coverage", "370303")?.numerator == 0)
        #expect(s.indicator("inspection.kindergarten_coverage", "370303")?.denominator == 250)
    }

    /// A district with no inspection at all falls behind as the year passes (judged on ticks).
    @Test func aDistrictThatInspectsNoKindergartenFallsOffTrackAsTheYearPasses() throws {
        var s = Scenario(InspectionHandler(), now: "2024-01-15T09:00:00+08:00")
        s.plans = Self.plan003
        for n in 0..<40 { try s.send(EventType.enrolmentCensus, region: "370305", payload: Self.census("370305-K\(n)")) }
        try s.advance(days: 150)
        #expect(s.indicator("inspection.kindergarten_coverage", "370305")?.status == .offTrack)
    }

    @Test func theCityIsTheSumOfItsDistrictsNumeratorsAndDenominators() throws {
        var s = Scenario(InspectionHandler(), now: "2024-03-01T09:00:00+08:00")
        for n in 0..<50 { try s.send(EventType.enrolmentCensus, region: "370303", payload: Self.census("370303-K\(n)")) }
        for n in 0..<40 { try s.send(EventType.enrolmentCensus, region: "370305", payload: Self.census("370305-K\(n)")) }
        for n in 0..<10 { try s.send(InspectionVisit.type, region: "370303", payload: Self.visit("A\(n)", school: "370303-K\(n)", date: "2024-03-02")) }
        for n in 0..<2 { try s.send(InspectionVisit.type, region: "370305", payload: Self.visit("B\(n)", school: "370305-K\(n)", date: "2024-03-02")) }
        let city = try #require(s.indicator("inspection.kindergarten_coverage", "370300"))
        #expect(city.numerator == 12 && city.denominator == 90)
        #expect(s.explain("inspection.kindergarten_coverage", "370300")?.contributions.count == 90)
    }

    @Test func findingsNotRectifiedByTheirDateAreOverdueYellowThenOrangeUntilRectified() throws {
        var s = Scenario(InspectionHandler(), now: "2020-05-06T09:00:00+08:00")
        try s.send(InspectionVisit.type, region: "370303",
            payload: Self.visit("V-1", school: "370303-K017", date: "2020-05-06", findings: 3, rectifyBy: "2020-06-30"))
        #expect(s.indicator("inspection.open_rectifications", "370300")?.value == 1)
        #expect(s.firing("inspection.rectification_overdue/V-1") == nil)
        try s.advance(days: 56)  // 2020-07-01
        let overdue = try #require(s.firing("inspection.rectification_overdue/V-1"))
        #expect(overdue.level == .yellow && overdue.planRef == "Zibo 2020 §31")
        #expect(overdue.summary == "370303-K017 督导发现问题3项, 已过整改期限(2020-06-30)仍未整改")
        try s.advance(days: 30)
        #expect(s.firing("inspection.rectification_overdue/V-1")?.level == .orange)
        try s.send(InspectionVisit.type, region: "370303",
            payload: Self.visit("V-1", school: "370303-K017", date: "2020-05-06", findings: 3, rectifyBy: "2020-06-30", rectifiedOn: "2020-08-02"))
        #expect(s.firing("inspection.rectification_overdue/V-1") == nil)
        #expect(s.history("inspection.rectification_overdue/V-1").last?.summary.contains("整改完毕") == true)
        #expect(s.indicator("inspection.open_rectifications", "370300")?.value == 0)
        // Counted once however often it is updated.
        #expect(s.indicator("inspection.visits", "370300")?.value == 1)
    }

    @Test func aDeploymentMayRestateTheOrangeDeadline() throws {
        var s = Scenario(InspectionHandler(), now: "2020-05-06T09:00:00+08:00")
        s.timings = RuleTimings(["inspection.rectification_overdue.orange": RuleDuration(5, .workingDays)])
        try s.send(InspectionVisit.type, region: "370303",
            payload: Self.visit("V-2", school: "370303-0042", level: "primary", type: "comprehensive", date: "2020-05-06", findings: 1, rectifyBy: "2020-05-29"))
        try s.advance(days: 24)  // Saturday 2020-05-30: overdue since midnight
        #expect(s.firing("inspection.rectification_overdue/V-2")?.level == .yellow)
        try s.advance(days: 7)  // five working days later
        #expect(s.firing("inspection.rectification_overdue/V-2")?.level == .orange)
    }

    /// City 2023 §19 "启动新一轮“幼儿园办园行为”督导评估": a target on the visits of one type.
    @Test func aFilteredTargetCountsOnlyTheVisitsItsArticleNames() throws {
        var s = Scenario(InspectionHandler(), now: "2023-03-01T09:00:00+08:00")
        s.plans = PlanSet(plans: [
            Plan(
                plan: "City 2023", title: "2023年教育工作要点", city: RegionCode("370300")!, source: nil,
                period: .init(start: LocalDate(iso: "2023-01-01")!, end: LocalDate(iso: "2023-12-31")!),
                targets: [
                    PlanTarget(
                        indicator: "inspection.visits", series: "inspection.visits.kindergarten_conduct", scope: .city,
                        filter: ["inspectionType": ["kindergartenConduct"]], atLeast: 1, deadline: LocalDate(iso: "2023-12-31")!,
                        planRef: "City 2023 §19")
                ])
        ])
        try s.send(InspectionVisit.type, region: "370303", payload: Self.visit("C-1", school: "370303-0042", level: "primary", type: "comprehensive", date: "2023-03-01"))
        try s.advance(hours: 1)  // judged on the tick, counted or not
        #expect(s.indicator("inspection.visits.kindergarten_conduct", "370300")?.value == 0)
        #expect(s.indicator("inspection.visits.kindergarten_conduct", "370300")?.status == .onTrack)
        try s.send(InspectionVisit.type, region: "370303", payload: Self.visit("K-1", school: "370303-K1", date: "2023-03-02"))
        #expect(s.indicator("inspection.visits.kindergarten_conduct", "370300")?.status == .met)
        #expect(s.indicator("inspection.visits", "370300")?.value == 2)
    }

    @Test func findingsWithoutARectificationDateAreRejected() {
        var s = Scenario(InspectionHandler(), now: "2020-05-06T09:00:00+08:00")
        #expect(throws: Rejection(.schemaViolation, "payload.rectifyBy: required when findings > 0 (the date the problems must be rectified by)")) {
            try s.send(InspectionVisit.type, region: "370303", payload: Self.visit("V", school: "S", date: "2020-05-06", findings: 2))
        }
    }
}

extension Scenario {
    /// What makes up an indicator's value, as `planwatch explain` shows it.
    func explain(_ indicator: String, _ region: String) -> IndicatorExplanation? {
        handler.explain(indicator, region: RegionCode(region)!, state: state)
    }
}
