import DigitalInfrastructure
import HandlerKit
import HandlerKitTesting
import Testing

/// 003 §43 "达到每间教室都接入带宽30M以上的网络…各中小学校教师信息化终端达到1:1".
@Suite struct DigitalInfrastructureScenarioTests {
    static func report(_ school: String, classrooms: Int64, mbps: Int64, terminals: Int64, teachers: Int64) -> JSONValue {
        .object([
            "schoolId": .string(school), "classrooms": .integer(classrooms), "bandwidthMbps": .integer(mbps),
            "teacherTerminals": .integer(terminals), "teachers": .integer(teachers),
        ])
    }

    static let plan = PlanSet(plans: [
        Plan(
            plan: "District plans (003)", title: "t", city: RegionCode("370300")!, source: nil,
            period: .init(start: LocalDate(iso: "2024-01-01")!, end: LocalDate(iso: "2024-12-31")!),
            districts: [RegionCode("370303")!, RegionCode("370305")!],
            targets: [
                PlanTarget(indicator: "infra.bandwidth_30m_share", scope: .eachDistrict, atLeast: 1, deadline: LocalDate(iso: "2024-12-31")!, planRef: "District plans (003) §43"),
                PlanTarget(indicator: "infra.teacher_terminal_ratio", scope: .eachDistrict, atLeast: 1, deadline: LocalDate(iso: "2024-12-31")!, planRef: "District plans (003) §43"),
            ])
    ])

    @Test func sharesAreSummedByClassroomsAndTeachersAcrossSchoolsAndDistricts() throws {
        var s = Scenario(DigitalInfrastructureHandler(), now: "2024-03-01T09:00:00+08:00")
        s.plans = Self.plan
        try s.send(ClassroomInfrastructure.type, region: "370303", payload: Self.report("370303-P001", classrooms: 40, mbps: 100, terminals: 120, teachers: 120))
        try s.send(ClassroomInfrastructure.type, region: "370303", payload: Self.report("370303-P002", classrooms: 12, mbps: 20, terminals: 60, teachers: 80))
        try s.send(ClassroomInfrastructure.type, region: "370305", payload: Self.report("370305-J001", classrooms: 30, mbps: 50, terminals: 90, teachers: 90))
        try s.advance(hours: 16)  // levels are judged once their first day of data is over
        let district = try #require(s.indicator("infra.bandwidth_30m_share", "370303"))
        #expect(district.numerator == 40 && district.denominator == 52)
        #expect(district.target?.planRef == "District plans (003) §43")
        #expect(s.indicator("infra.bandwidth_30m_share", "370305")?.status == .met)
        let city = try #require(s.indicator("infra.teacher_terminal_ratio", "370300"))
        #expect(city.numerator == 270 && city.denominator == 290)
        // A new report replaces the school's old one.
        try s.send(ClassroomInfrastructure.type, region: "370303", payload: Self.report("370303-P002", classrooms: 12, mbps: 100, terminals: 80, teachers: 80))
        #expect(s.indicator("infra.bandwidth_30m_share", "370303")?.value == 1)
        #expect(s.indicator("infra.teacher_terminal_ratio", "370300")?.numerator == 290)
        #expect(s.indicator("infra.teacher_terminal_ratio", "370303")?.status == .met)
    }

    @Test func aSchoolBelowTheStandardIsBlueThenOrangeAfter90DaysUntilAReportShowsItAtTheStandard() throws {
        var s = Scenario(DigitalInfrastructureHandler(), now: "2024-03-01T09:00:00+08:00")
        try s.send(ClassroomInfrastructure.type, region: "370303", payload: Self.report("370303-P002", classrooms: 12, mbps: 20, terminals: 60, teachers: 80))
        let slow = try #require(s.firing("infra.bandwidth_below/370303-P002"))
        #expect(slow.level == .blue && slow.planRef == "District plans (003) §43")
        #expect(slow.summary == "370303-P002 教室接入带宽20M, 低于30M(12间教室)")
        #expect(s.firing("infra.terminals_short/370303-P002")?.summary == "370303-P002 教师信息化终端60台, 教师80人, 未达到1:1")
        try s.advance(days: 91)
        #expect(s.firing("infra.bandwidth_below/370303-P002")?.level == .orange)
        #expect(s.firing("infra.terminals_short/370303-P002")?.level == .orange)
        try s.send(ClassroomInfrastructure.type, region: "370303", payload: Self.report("370303-P002", classrooms: 12, mbps: 100, terminals: 60, teachers: 80))
        #expect(s.firing("infra.bandwidth_below/370303-P002") == nil)
        #expect(s.firing("infra.terminals_short/370303-P002")?.level == .orange)  // still 60 for 80
    }

    @Test func aNegativeBandwidthIsRejected() {
        var s = Scenario(DigitalInfrastructureHandler(), now: "2024-03-01T09:00:00+08:00")
        #expect(throws: Rejection(.schemaViolation, "payload.bandwidthMbps: -30 is outside 0...1000000")) {
            try s.send(ClassroomInfrastructure.type, region: "370303", payload: Self.report("S", classrooms: 1, mbps: -30, terminals: 1, teachers: 1))
        }
    }
}
