import CampusSafety
import CapitalProjects
import Enrolment
import Foundation
import HandlerCatalog
import HandlerKit
import HandlerKitTesting
import PlanFiles
import Testing

/// DOMAIN.md "What a verdict means", case by case, on the shipped plan files: each test reads
/// its targets from the file (not a copy of their numbers) and drives the handler as the
/// daemon would.
@Suite struct VerdictTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let catalog = IndicatorCatalog(HandlerCatalog.builtIn().map(\.manifest))

    static func plans(_ files: String...) throws -> PlanSet {
        try PlanFile.loadSet(paths: files.map { root.appendingPathComponent("Plans/\($0)").path }, catalog: catalog)
    }

    static func target(_ plans: PlanSet, _ series: String, plan: String) throws -> PlanTarget {
        try #require(plans.assignments.first { $0.target.series == series && $0.plan == plan }?.target)
    }

    static func project(
        _ id: String, _ milestone: String, on date: String, category: String, work: String = "new", ownership: String = "public",
        seats: Int64 = 0
    ) -> JSONValue {
        .object([
            "projectId": .string(id), "name": .string("项目\(id)"), "category": .string(category), "work": .string(work),
            "milestone": .string(milestone), "actualDate": .string(date), "seatsAdded": .integer(seats), "ownership": .string(ownership),
        ])
    }

    // MARK: Nothing happening is news

    @Test func aTargetNobodyTouchesGoesAtRiskThenOffTrackByTheClockAndItsAlertFires() throws {
        let plans = try Self.plans("zibo-2020.yaml")
        let kindergartens = try Self.target(plans, "projects.completed.kindergarten_built", plan: "Zibo 2020")
        var s = Scenario(CapitalProjectsHandler(), now: "2020-01-02T09:00:00+08:00")
        s.plans = plans
        try s.advance(hours: 1)
        let first = try #require(s.indicator("projects.completed.kindergarten_built", "370300"))
        #expect(first.value == 0 && first.status == .onTrack)  // 0 of 103 on 2 January: the year has barely begun
        #expect(first.target?.value == kindergartens.atLeast)
        #expect(first.plan == "Zibo 2020")
        try s.advance(days: 31)  // February: behind, within the margin
        #expect(s.indicator("projects.completed.kindergarten_built", "370300")?.status == .atRisk)
        let fp = "projects.target_at_risk/Zibo 2020/projects.completed.kindergarten_built/370300"
        #expect(s.firing(fp)?.level == .yellow)
        try s.advance(days: 215)  // September, still none
        #expect(s.indicator("projects.completed.kindergarten_built", "370300")?.status == .offTrack)
        let alert = try #require(s.firing(fp))
        #expect(alert.level == .orange)
        #expect(alert.planRef == kindergartens.planRef)
        #expect(alert.summary.contains("全市新改扩建幼儿园103处") && alert.summary.contains("已完成0处"))
    }

    @Test func eachDistrictIsJudgedOnItsOwnEvenWithNoEventFromIt() throws {
        let plans = try Self.plans("zibo-2020.yaml")
        let perDistrict = try Self.target(plans, "projects.completed.public_kindergarten_new", plan: "Zibo 2020")
        let needed = Int(try #require(perDistrict.atLeast))
        var s = Scenario(CapitalProjectsHandler(), now: "2020-03-01T09:00:00+08:00")
        s.plans = plans
        for n in 0..<needed {
            try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("Z-\(n)", "completed", on: "2020-03-01", category: "kindergarten"))
        }
        // A private one and an expansion do not count toward "新建…公办幼儿园".
        try s.send(EventType.projectMilestone, region: "370302", payload: Self.project("Z-p", "completed", on: "2020-03-01", category: "kindergarten", ownership: "private"))
        try s.send(EventType.projectMilestone, region: "370302", payload: Self.project("Z-x", "completed", on: "2020-03-01", category: "kindergarten", work: "expansion"))
        try s.advance(days: 200)
        #expect(s.indicator("projects.completed.public_kindergarten_new", "370303")?.status == .met)
        let zichuan = try #require(s.indicator("projects.completed.public_kindergarten_new", "370302"))
        #expect(zichuan.value == 0 && zichuan.status == .offTrack)
        // 沂源 sent nothing at all: judged too.
        #expect(s.indicator("projects.completed.public_kindergarten_new", "370323")?.status == .offTrack)
        #expect(s.firing("projects.target_at_risk/Zibo 2020/projects.completed.public_kindergarten_new/370323")?.level == .orange)
        #expect(s.firing("projects.target_at_risk/Zibo 2020/projects.completed.public_kindergarten_new/370303") == nil)
    }

    // MARK: Periods

    @Test func aPlanJudgesOnlyInsideItsPeriodAndCountsOnlyWhatHappenedInIt() throws {
        let plans = try Self.plans("city-2023.yaml")
        var s = Scenario(CapitalProjectsHandler(), now: "2022-06-01T09:00:00+08:00")
        s.plans = plans
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("K-2022", "completed", on: "2022-06-01", category: "kindergarten"))
        // 2022: the 2023 plan has not begun: no target, no status, nothing published for its series.
        #expect(s.indicator("projects.completed.public_kindergarten_new", "370300") == nil)
        try s.advance(days: 214)  // 2023-01-01
        let start = try #require(s.indicator("projects.completed.public_kindergarten_new", "370300"))
        #expect(start.value == 0)  // the 2022 kindergarten is not the 2023 plan's
        #expect(start.plan == "City 2023")
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("K-2023", "completed", on: "2023-03-01", category: "kindergarten"))
        #expect(s.indicator("projects.completed.public_kindergarten_new", "370300")?.value == 1)
        #expect(s.indicator("projects.completed.public_kindergarten_new", "370300")?.status == .met)
    }

    @Test func twoPlansWithDifferentPeriodsEachSeeTheirOwnCount() throws {
        let plans = try Self.plans("zibo-2020.yaml", "city-2023.yaml")
        var s = Scenario(CapitalProjectsHandler(), now: "2020-03-01T09:00:00+08:00")
        s.plans = plans
        for n in 0..<2 {
            try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("A-\(n)", "completed", on: "2020-03-01", category: "kindergarten"))
        }
        #expect(s.indicator("projects.completed.public_kindergarten_new", "370303")?.value == 2)
        try s.advance(days: 1100)  // into 2023
        try s.send(EventType.projectMilestone, region: "370305", payload: Self.project("B-1", "completed", on: "2023-03-10", category: "kindergarten"))
        let city2023 = try #require(s.indicator("projects.completed.public_kindergarten_new", "370300"))
        #expect(city2023.plan == "City 2023" && city2023.value == 1)
        // The 2020 verdict of 张店 stays the verdict of record for its plan.
        let zhangdian = try #require(s.outputs.indicators.last { $0.indicator == "projects.completed.public_kindergarten_new" && $0.region.code == "370303" })
        #expect(zhangdian.plan == "Zibo 2020" && zhangdian.final && zhangdian.value == 2 && zhangdian.status == .offTrack)
    }

    // MARK: What counts is what the article says

    @Test func kindergartenSeatsNeverCountTowardThePublicCompulsorySeats() throws {
        let plans = try Self.plans("city-2023.yaml")
        let seats = try Self.target(plans, "projects.seats_added.public", plan: "City 2023")
        var s = Scenario(CapitalProjectsHandler(), now: "2023-03-01T09:00:00+08:00")
        s.plans = plans
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("K-1", "inUse", on: "2023-03-01", category: "kindergarten", seats: 300))
        #expect((s.indicator("projects.seats_added.public", "370300")?.value ?? 0) == 0)
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("P-1", "inUse", on: "2023-04-01", category: "primary", work: "expansion", seats: 600))
        #expect(s.indicator("projects.seats_added.public", "370300")?.value == 600)
        // A private school's seats are not 公办 seats either.
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("P-2", "inUse", on: "2023-04-02", category: "junior", ownership: "private", seats: 900))
        #expect(s.indicator("projects.seats_added.public", "370300")?.value == 600)
        #expect(s.indicator("projects.seats_added.public", "370300")?.target?.value == seats.atLeast)
        // The indicator itself still counts every compulsory seat, and the kindergarten's on its own.
        #expect(s.indicator("projects.seats_added", "370300")?.value == 1500)
        #expect(s.indicator("projects.seats_added.preschool", "370300")?.value == 300)
    }

    @Test func renovationsAndVocationalSchoolsAreNotAmongThe33Schools() throws {
        let plans = try Self.plans("zibo-2020.yaml")
        var s = Scenario(CapitalProjectsHandler(), now: "2020-03-01T09:00:00+08:00")
        s.plans = plans
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("R-1", "completed", on: "2020-03-01", category: "primary", work: "renovation"))
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("V-1", "completed", on: "2020-03-01", category: "vocational"))
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("S-1", "completed", on: "2020-03-01", category: "senior", work: "expansion"))
        try s.send(EventType.projectMilestone, region: "370303", payload: Self.project("N-1", "completed", on: "2020-03-01", category: "nineYear"))
        #expect(s.indicator("projects.completed.school_built", "370300")?.value == 2)  // the senior and the nine-year school
        #expect(s.indicator("projects.completed.school_renovated", "370300")?.value == 1)  // 薄改
        #expect(s.indicator("projects.completed.vocational", "370300")?.value == 1)
        #expect(s.indicator("projects.completed.senior", "370300")?.value == 1)
        #expect(s.indicator("projects.completed.school_built", "370300")?.target?.value == (try Self.target(plans, "projects.completed.school_built", plan: "Zibo 2020")).atLeast)
    }

    // MARK: Baselines and final verdicts

    @Test func aShareIsMeasuredFromItsValueWhenThePeriodBegan() throws {
        let plans = try Self.plans("zibo-2020.yaml")
        let share = try Self.target(plans, "preschool.public_share", plan: "Zibo 2020")
        var s = Scenario(EnrolmentHandler(), now: "2019-12-20T09:00:00+08:00")
        s.plans = plans
        func census(_ school: String, _ ownership: String, _ size: Int64, term: String = "2019-autumn") -> JSONValue {
            .object([
                "schoolId": .string(school), "level": "preschool", "ownership": .string(ownership), "term": .string(term),
                "classes": .array([.object(["classId": "a", "size": .integer(size)])]),
            ])
        }
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("K-pub", "public", 40))
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("K-pri", "private", 60))
        // 2019: before the period: no verdict.
        #expect(s.indicator("preschool.public_share", "370300")?.status == nil)
        try s.advance(days: 12)  // 2020-01-01: the value then, 40 %, is the baseline
        let start = try #require(s.indicator("preschool.public_share", "370300"))
        #expect(start.baseline == 0.4 && start.status == .onTrack)
        #expect(start.target?.value == share.atLeast)
        try s.advance(days: 182)  // 1 July: half the year gone, no progress from 40 %
        #expect(s.indicator("preschool.public_share", "370300")?.status == .offTrack)
        try s.send(EventType.enrolmentCensus, region: "370303", payload: census("K-pub", "public", 60, term: "2020-spring"))
        // 60 of 120 = 50 %: met.
        #expect(s.indicator("preschool.public_share", "370300")?.status == .met)
    }

    @Test func clearingOversizedClassesIsMeasuredFromTheFirstCensusOfThePeriod() throws {
        let plans = try Self.plans("zibo-2020.yaml")
        var s = Scenario(EnrolmentHandler(), now: "2020-02-17T08:00:00+08:00")
        s.plans = plans
        let classes = (1...10).map { JSONValue.object(["classId": .string("c\($0)"), "size": 60]) } + [.object(["classId": "ok", "size": 45])]
        try s.send(EventType.enrolmentCensus, region: "370303", payload: .object([
            "schoolId": "P-1", "level": "primary", "ownership": "public", "term": "2020-spring", "classes": .array(classes),
        ]))
        try s.advance(days: 1)  // the census day is over: its value is the baseline
        #expect(s.indicator("compulsory.oversized_classes", "370300")?.baseline == 10)
        try s.advance(days: 135)  // 1 July, still 10
        #expect(s.indicator("compulsory.oversized_classes", "370300")?.status == .offTrack)
        let fewer = (1...5).map { JSONValue.object(["classId": .string("c\($0)"), "size": 60]) }
        try s.send(EventType.enrolmentCensus, region: "370303", payload: .object([
            "schoolId": "P-1", "level": "primary", "ownership": "public", "term": "2020-autumn", "classes": .array(fewer),
        ]))
        // 5 of 10 cleared by 1 July (half the year): on track.
        #expect(s.indicator("compulsory.oversized_classes", "370300")?.status == .onTrack)
        // Past the deadline with 5 left: offTrack, final, and it stays so for that plan.
        try s.advance(days: 190)
        let final = try #require(s.indicator("compulsory.oversized_classes", "370300"))
        #expect(final.status == .offTrack && final.final)
        try s.send(EventType.enrolmentCensus, region: "370303", payload: .object([
            "schoolId": "P-1", "level": "primary", "ownership": "public", "term": "2021-spring", "classes": .array([]),
        ]))
        let after = try #require(s.indicator("compulsory.oversized_classes", "370300"))
        #expect(after.value == 0 && after.status == .offTrack && after.final)
    }

    // MARK: Severity

    @Test func aPlanMayOverrideTheSeverityTable() throws {
        let text = """
            plan: Strict 2026
            title: 更严格的预警标准
            city: "370300"
            period: {start: 2026-01-01, end: 2026-12-31}
            severity: {redDeaths: 1, orangeInjured: 3, yellowCategories: [drowning, bullying, sexualAbuse, fraud]}
            targets: []
            """
        let (plan, problems) = PlanFile.check(text: text, file: "strict.yaml", catalog: Self.catalog)
        #expect(problems.isEmpty, "\(problems)")
        var s = Scenario(CampusSafetyHandler(), now: "2026-03-11T12:30:00+08:00")
        s.plans = PlanSet(plans: [try #require(plan)])
        func incident(_ id: String, category: String = "traffic", injured: Int64 = 0, deaths: Int64 = 0) -> JSONValue {
            .object([
                "incidentId": .string(id), "schoolId": "370303-0042", "category": .string(category), "status": "reported",
                "affected": 1, "injured": .integer(injured), "deaths": .integer(deaths), "reportedAt": "2026-03-11T12:30:00+08:00",
            ])
        }
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("D-1", deaths: 1))
        #expect(s.firing("safety.incident/D-1")?.level == .red)  // DOMAIN.md's table: orange
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("I-3", injured: 3))
        #expect(s.firing("safety.incident/I-3")?.level == .orange)  // the table: yellow
        try s.send(EventType.safetyIncident, region: "370303", payload: incident("F-1", category: "fraud"))
        #expect(s.firing("safety.incident/F-1")?.level == .yellow)  // the table: blue
        // Another city keeps the table.
        try s.send(EventType.safetyIncident, region: "370102", payload: incident("J-1", deaths: 1))
        #expect(s.firing("safety.incident/J-1")?.level == .orange)
    }
}
