import Enrolment
import HandlerKit
import HandlerKitTesting
import Testing

/// DOMAIN.md's enrolment rules and indicators, with Zibo's district codes and the 2020 plan's targets.
@Suite struct EnrolmentScenarioTests {
    static let zibo2020 = PlanSet(plans: [
        Plan(
            plan: "Zibo 2020", title: "淄博市2020年工作要点", city: RegionCode("370300")!, source: nil,
            period: .init(start: LocalDate(iso: "2020-01-01")!, end: LocalDate(iso: "2020-12-31")!),
            targets: [
                // Baselines from the file: progress is measured from 0 here.
                PlanTarget(
                    indicator: "preschool.public_share", scope: .city, atLeast: 0.5, baseline: 0, deadline: LocalDate(iso: "2020-12-31")!,
                    planRef: "Zibo 2020 §6"),
                PlanTarget(
                    indicator: "secondary.vocational_share", scope: .city, atLeast: 0.4, baseline: 0, deadline: LocalDate(iso: "2020-12-31")!,
                    planRef: "Zibo 2020 §18"),
            ])
    ])

    func census(_ school: String, level: String = "primary", ownership: String = "public", _ classes: [(String, Int64)]) -> JSONValue {
        .object([
            "schoolId": .string(school), "level": .string(level), "ownership": .string(ownership), "term": "2020-spring",
            "classes": .array(classes.map { .object(["classId": .string($0.0), "size": .integer($0.1)]) }),
        ])
    }

    func change(_ school: String, _ kind: String, _ count: Int64, classId: String? = nil, student: String? = nil,
        level: String = "primary", ownership: String = "public") -> JSONValue
    {
        var o = JSONObject([
            ("schoolId", .string(school)), ("level", .string(level)), ("ownership", .string(ownership)),
            ("change", .string(kind)), ("count", .integer(count)),
        ])
        if let classId { o["classId"] = .string(classId) }
        if let student { o["studentRef"] = .string(student) }
        return .object(o)
    }

    @Test func oversizedClassFiresYellowTurnsOrangeOver65AndResolvesAt55() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T08:10:00+08:00")
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-0042", [("3-2", 57), ("3-1", 40)]))
        let fp = "enrolment.oversized_class/370303-0042/3-2"
        let fired = try #require(s.firing(fp))
        #expect(fired.level == .yellow && fired.planRef == "Zibo 2020 §8")
        #expect(fired.summary == "370303-0042 3-2班 班额57人, 超过55人(大班额)")
        #expect(fired.subject == ["schoolId": "370303-0042", "classId": "3-2"])
        #expect(s.indicator("compulsory.oversized_classes", "370303")?.value == 1)
        #expect(s.indicator("compulsory.oversized_classes", "370300")?.value == 1)

        try s.send(EventType.enrolmentChange, region: "370303", payload: change("370303-0042", "admitted", 9, classId: "3-2"))
        #expect(s.firing(fp)?.level == .orange)
        #expect(s.firing(fp)?.previousLevel == .yellow)
        #expect(s.indicator("compulsory.super_oversized_classes", "370300")?.value == 1)

        try s.send(EventType.enrolmentChange, region: "370303", payload: change("370303-0042", "transferredOut", 11, classId: "3-2"))
        #expect(s.firing(fp) == nil)
        #expect(s.history(fp).map(\.status) == [.firing, .firing, .resolved])
        #expect(s.indicator("compulsory.oversized_classes", "370303")?.value == 0)
        #expect(s.indicator("compulsory.super_oversized_classes", "370303")?.value == 0)

        // The same census again: nothing changes, nothing is published.
        let again = try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-0042", [("3-2", 55), ("3-1", 40)]))
        #expect(again.isEmpty)
    }

    @Test func seniorClassesAreCountedOnTheirOwnWithThe2023Article() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-09-01T08:00:00+08:00")
        try s.send(EventType.enrolmentCensus, region: "370305", payload: census("370305-S001", level: "senior", [("1-1", 58)]))
        #expect(s.firing("enrolment.oversized_class/370305-S001/1-1")?.planRef == "City 2023 §10")
        #expect(s.indicator("senior.oversized_classes", "370300")?.value == 1)
        #expect(s.indicator("compulsory.oversized_classes", "370300") == nil)
        // Kindergarten classes have no 55-pupil rule.
        try s.send(EventType.enrolmentCensus, region: "370305", payload: census("370305-K001", level: "preschool", [("大1", 60)]))
        #expect(s.alerts.count == 1)
    }

    @Test func censusReplacesEveryClassOfTheSchool() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T08:00:00+08:00")
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-0042", [("3-2", 60), ("3-3", 58)]))
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-0042", [("3-2", 50)]))
        #expect(s.firing("enrolment.oversized_class/370303-0042/3-2") == nil)
        #expect(s.firing("enrolment.oversized_class/370303-0042/3-3") == nil)
        #expect(s.indicator("compulsory.oversized_classes", "370303")?.value == 0)
    }

    @Test func dropOutEscalatesAfter30And90DaysAndResolvesOnReturn() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T10:00:00+08:00")
        try s.send(EventType.enrolmentChange, region: "370322", payload: change("370322-0007", "droppedOut", 1, classId: "5-1", student: "S-8f2a"))
        let fp = "enrolment.dropout_open/S-8f2a"
        #expect(s.firing(fp)?.level == .blue)
        #expect(s.indicator("compulsory.open_dropout_cases", "370322")?.value == 1)
        #expect(s.indicator("compulsory.open_dropout_cases", "370300")?.value == 1)
        try s.advance(days: 29)
        #expect(s.firing(fp)?.level == .blue)
        try s.advance(days: 1)
        #expect(s.firing(fp)?.level == .yellow)
        #expect(s.firing(fp)?.summary.contains("30天") == true)
        try s.advance(days: 60)
        #expect(s.firing(fp)?.level == .orange)
        try s.advance(days: 60)
        #expect(s.history(fp).count == 3)  // no repeats while nothing changes
        try s.send(EventType.enrolmentChange, region: "370322", payload: change("370322-0007", "returned", 1, classId: "5-1", student: "S-8f2a"))
        #expect(s.firing(fp) == nil)
        #expect(s.history(fp).last?.summary.contains("已复学") == true)
        #expect(s.indicator("compulsory.open_dropout_cases", "370300")?.value == 0)
    }

    @Test func cityShareIsTheSumOfDistrictNumeratorsNotAnAverage() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T08:00:00+08:00")
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-K1", level: "preschool", [("a", 30)]))
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-K2", level: "preschool", ownership: "private", [("a", 70)]))
        try s.send(EventType.enrolmentCensus, region: "370302", payload: census("370302-K1", level: "preschool", [("a", 150)]))
        try s.send(EventType.enrolmentCensus, region: "370302", payload: census("370302-K2", level: "preschool", ownership: "inclusivePrivate", [("a", 150)]))
        #expect(s.indicator("preschool.public_share", "370303")?.value == 0.3)
        #expect(s.indicator("preschool.public_share", "370302")?.value == 0.5)
        let city = try #require(s.indicator("preschool.public_share", "370300"))
        #expect(city.numerator == 180 && city.denominator == 400 && city.value == 0.45)
        #expect(city.scope == .city)
        #expect(s.indicator("preschool.inclusive_share", "370300")?.value == 330.0 / 400.0)
    }

    @Test func shareBelowTargetIsYellowAtRiskOrangeOffTrackAndResolvesWhenBack() throws {
        // 2020-11-20: 88.5 % of the plan year has passed.
        var s = Scenario(EnrolmentHandler(), now: "2020-11-20T09:00:00+08:00")
        s.plans = Self.zibo2020
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-K1", level: "preschool", [("a", 41)]))
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-K2", level: "preschool", ownership: "private", [("a", 59)]))
        let fp = "enrolment.share_below_target/Zibo 2020/preschool.public_share/370300"
        // Not judged while the period's first census is still arriving (the first day of data).
        #expect(s.indicator("preschool.public_share", "370300")?.status == nil)
        #expect(s.firing(fp) == nil)
        try s.advance(hours: 16)
        let update = try #require(s.indicator("preschool.public_share", "370300"))
        #expect(update.status == .atRisk)  // progress 82 % of the way to 50 %: behind by less than 10 points
        #expect(update.target == Target(comparison: .atLeast, value: 0.5, deadline: LocalDate(iso: "2020-12-31")!, planRef: "Zibo 2020 §6"))
        #expect(s.firing(fp)?.level == .yellow)
        #expect(s.firing(fp)?.planRef == "Zibo 2020 §6")
        #expect(s.firing(fp)?.summary.contains("41.0%") == true)
        try s.send(EventType.enrolmentChange, region: "370303", payload: change("370303-K1", "withdrawn", 10, level: "preschool"))
        #expect(s.firing(fp)?.level == .orange)
        try s.send(EventType.enrolmentChange, region: "370303", payload: change("370303-K1", "admitted", 40, level: "preschool"))
        #expect(s.indicator("preschool.public_share", "370300")?.status == .met)
        #expect(s.firing(fp) == nil)
        // Districts have no target in this plan.
        #expect(s.indicator("preschool.public_share", "370303")?.status == nil)
    }

    @Test func vocationalShareOfUpperSecondary() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-09-01T08:00:00+08:00")
        s.plans = Self.zibo2020
        try s.send(EventType.enrolmentCensus, region: "370304", payload: census("370304-V1", level: "vocational", [("a", 400)]))
        try s.send(EventType.enrolmentCensus, region: "370304", payload: census("370304-S1", level: "senior", (1...12).map { ("\($0)", 50) }))
        try s.advance(hours: 17)  // the census day is over
        let v = try #require(s.indicator("secondary.vocational_share", "370300"))
        #expect(v.value == 0.4 && v.status == .met)
        #expect(s.alerts.allSatisfy { $0.rule != "enrolment.share_below_target" })
    }

    @Test func atRiskTurnsOffTrackAsTheYearPassesWithNoEvent() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-06-01T09:00:00+08:00")
        s.plans = Self.zibo2020
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-K1", level: "preschool", [("a", 20)]))
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("370303-K2", level: "preschool", ownership: "private", [("a", 80)]))
        try s.advance(hours: 16)  // the census day is over
        #expect(s.indicator("preschool.public_share", "370300")?.status == .atRisk)  // 40 % of the way, 41.9 % of the year
        try s.advance(days: 29)  // 49.9 % of the year: behind by 9.9 points, still at risk
        #expect(s.indicator("preschool.public_share", "370300")?.status == .atRisk)
        try s.advance(days: 10)
        #expect(s.indicator("preschool.public_share", "370300")?.status == .offTrack)
        #expect(s.firing("enrolment.share_below_target/Zibo 2020/preschool.public_share/370300")?.level == .orange)
    }

    func dropout(_ school: String, _ kind: String, student: String, level: String = "primary", reason: String? = nil, to: String? = nil) -> JSONValue {
        var o = JSONObject([
            ("schoolId", .string(school)), ("level", .string(level)), ("ownership", "public"), ("classId", "5-1"),
            ("change", .string(kind)), ("count", 1), ("studentRef", .string(student)),
        ])
        if let reason { o["reason"] = .string(reason) }
        if let to { o["toSchoolId"] = .string(to) }
        return .object(o)
    }

    /// DOMAIN.md: "withdrawn is not a lawful exit from compulsory education and keeps the case open".
    @Test func aWithdrawalKeepsTheDropOutCaseOpenALawfulExitClosesIt() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T10:00:00+08:00")
        try s.send(EventType.enrolmentChange, region: "370322", payload: dropout("370322-0007", "droppedOut", student: "S-1", reason: "poverty"))
        let fp = "enrolment.dropout_open/S-1"
        #expect(s.firing(fp)?.summary.contains("辍学原因: 因贫") == true)
        try s.send(EventType.enrolmentChange, region: "370322", payload: dropout("370322-0007", "withdrawn", student: "S-1"))
        #expect(s.firing(fp) != nil)
        #expect(s.indicator("compulsory.open_dropout_cases", "370300")?.value == 1)
        // It escalates as any open case, and says what was recorded.
        try s.advance(days: 30)
        #expect(s.firing(fp)?.level == .yellow)
        #expect(s.firing(fp)?.summary.contains("退学不是义务教育阶段的合法退出") == true)
        // A transfer to no school does not close it either; one to a named school does.
        try s.send(EventType.enrolmentChange, region: "370322", payload: dropout("370322-0007", "transferredOut", student: "S-1"))
        #expect(s.firing(fp) != nil)
        try s.send(EventType.enrolmentChange, region: "370322", payload: dropout("370322-0007", "transferredOut", student: "S-1", to: "370303-0042"))
        #expect(s.firing(fp) == nil)
        #expect(s.history(fp).last?.summary.contains("已转入370303-0042") == true)
        #expect(s.indicator("compulsory.open_dropout_cases", "370300")?.value == 0)
        // Death and a deferment for health are lawful too.
        try s.send(EventType.enrolmentChange, region: "370322", payload: dropout("370322-0007", "droppedOut", student: "S-2"))
        try s.send(EventType.enrolmentChange, region: "370322", payload: dropout("370322-0007", "withdrawn", student: "S-2", reason: "medicalDeferment"))
        #expect(s.firing("enrolment.dropout_open/S-2") == nil)
        #expect(s.history("enrolment.dropout_open/S-2").last?.summary.contains("因身体原因办理缓学") == true)
    }

    /// DOMAIN.md: "Only primary and junior drop-outs are 控辍保学 cases".
    @Test func onlyPrimaryAndJuniorDropOutsOpenACase() throws {
        var s = Scenario(EnrolmentHandler(), now: "2020-03-02T10:00:00+08:00")
        try s.send(EventType.enrolmentChange, region: "370305", payload: dropout("370305-S001", "droppedOut", student: "S-sen", level: "senior"))
        try s.send(EventType.enrolmentChange, region: "370305", payload: dropout("370305-V001", "droppedOut", student: "S-voc", level: "vocational"))
        #expect(s.alerts.isEmpty)
        try s.send(EventType.enrolmentChange, region: "370305", payload: dropout("370305-J001", "droppedOut", student: "S-jun", level: "junior"))
        #expect(s.firing("enrolment.dropout_open/S-jun")?.level == .blue)
        #expect(s.indicator("compulsory.open_dropout_cases", "370300")?.value == 1)
    }
}
