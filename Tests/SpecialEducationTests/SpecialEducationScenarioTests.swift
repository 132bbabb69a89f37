import HandlerKit
import HandlerKitTesting
import SpecialEducation
import Testing

/// City 2023 §12 "保障义务教育阶段适龄儿童少年应上尽上"; Zibo 2020 §21 "抓好随班就读工作,
/// 提升为重度残疾儿童送教上门服务质量".
@Suite struct SpecialEducationScenarioTests {
    static func child(_ ref: String, _ placement: String, date: String, disability: String = "intellectual") -> JSONValue {
        .object(["childRef": .string(ref), "disability": .string(disability), "placement": .string(placement), "date": .string(date)])
    }

    static let city2023 = PlanSet(plans: [
        Plan(
            plan: "City 2023", title: "2023年教育工作要点", city: RegionCode("370300")!, source: nil,
            period: .init(start: LocalDate(iso: "2023-01-01")!, end: LocalDate(iso: "2023-12-31")!),
            targets: [
                PlanTarget(indicator: "special.placement_rate", scope: .city, atLeast: 0.95, deadline: LocalDate(iso: "2023-12-31")!, planRef: "City 2023 §12")
            ])
    ])

    @Test func nineteenOfTwentyPlacedIsNinetyFivePercentAndMeetsTheTarget() throws {
        var s = Scenario(SpecialEducationHandler(), now: "2023-09-01T09:00:00+08:00")
        s.plans = Self.city2023
        let placements = Array(repeating: "regularClass", count: 12) + Array(repeating: "specialSchool", count: 4) + Array(repeating: "homeDelivered", count: 3)
        for (n, p) in placements.enumerated() {
            try s.send(SpecialPlacement.type, region: n < 10 ? "370303" : "370305", payload: Self.child("C-\(n)", p, date: "2023-09-01"))
        }
        try s.send(SpecialPlacement.type, region: "370305", payload: Self.child("C-19", "notPlaced", date: "2023-09-01", disability: "multiple"))
        try s.advance(hours: 16)  // levels are judged once their first day of data is over
        let rate = try #require(s.indicator("special.placement_rate", "370300"))
        #expect(rate.numerator == 19 && rate.denominator == 20 && rate.status == .met)
        #expect(s.indicator("special.placement_rate", "370305")?.numerator == 9)
        #expect(s.indicator("special.placement_rate", "370305")?.denominator == 10)
        #expect(s.indicator("special.home_delivered", "370300")?.value == 3)
        // One child moving from 随班就读 to 送教上门 moves the count, not the rate.
        try s.send(SpecialPlacement.type, region: "370303", payload: Self.child("C-0", "homeDelivered", date: "2023-10-08"))
        #expect(s.indicator("special.home_delivered", "370300")?.value == 4)
        #expect(s.indicator("special.placement_rate", "370300")?.numerator == 19)
    }

    @Test func aChildUnplacedFor30DaysRaisesYellowOrangeAfter90AndPlacementResolves() throws {
        var s = Scenario(SpecialEducationHandler(), now: "2023-09-01T09:00:00+08:00")
        try s.send(SpecialPlacement.type, region: "370303", payload: Self.child("C-7", "notPlaced", date: "2023-09-01", disability: "hearing"))
        try s.advance(days: 29)
        #expect(s.firing("special.unplaced/C-7") == nil)
        try s.advance(days: 1)
        let unplaced = try #require(s.firing("special.unplaced/C-7"))
        #expect(unplaced.level == .yellow && unplaced.planRef == "City 2023 §12")
        #expect(unplaced.summary == "370303 听力残疾儿童C-7自2023-09-01起超过30天未安置入学(应上尽上)")
        try s.advance(days: 60)
        #expect(s.firing("special.unplaced/C-7")?.level == .orange)
        try s.send(SpecialPlacement.type, region: "370303", payload: Self.child("C-7", "specialSchool", date: "2023-12-04", disability: "hearing"))
        #expect(s.firing("special.unplaced/C-7") == nil)
        #expect(s.indicator("special.placement_rate", "370303")?.value == 1)
    }

    @Test func aChildWhoExitsLeavesTheDenominatorAndItsAlert() throws {
        var s = Scenario(SpecialEducationHandler(), now: "2023-09-01T09:00:00+08:00")
        try s.send(SpecialPlacement.type, region: "370303", payload: Self.child("C-1", "regularClass", date: "2023-09-01"))
        try s.send(SpecialPlacement.type, region: "370303", payload: Self.child("C-2", "notPlaced", date: "2023-09-01"))
        try s.advance(days: 31)
        #expect(s.firing("special.unplaced/C-2") != nil)
        try s.send(SpecialPlacement.type, region: "370303", payload: Self.child("C-2", "exited", date: "2023-10-08"))
        #expect(s.firing("special.unplaced/C-2") == nil)
        #expect(s.indicator("special.placement_rate", "370303")?.denominator == 1)
        try s.advance(days: 90)
        #expect(s.history("special.unplaced/C-2").count == 2)  // fired, resolved: no orange for a child no longer there
    }

    @Test func anUnknownPlacementIsRejected() {
        var s = Scenario(SpecialEducationHandler(), now: "2023-09-01T09:00:00+08:00")
        #expect(throws: Rejection(.schemaViolation, "payload.placement: \"waiting\" is not one of regularClass, specialSchool, homeDelivered, notPlaced, exited")) {
            try s.send(SpecialPlacement.type, region: "370303", payload: Self.child("C", "waiting", date: "2023-09-01"))
        }
    }
}
