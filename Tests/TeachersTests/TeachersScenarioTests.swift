import HandlerKit
import HandlerKitTesting
@testable import Teachers
import Testing

/// Seed 003's district plans, sentence by sentence (§7 rotation, §32 research staff, §39 training).
@Suite struct TeachersScenarioTests {
    func roster(
        _ id: String, school: String = "370303-0042", role: String = "teacher", since: String, left: Bool = false, born: String? = nil,
        gender: String? = nil
    ) -> JSONValue {
        var o = JSONObject([
            ("teacherId", .string(id)), ("schoolId", .string(school)), ("role", .string(role)), ("since", .string(since)),
            ("left", .bool(left)),
        ])
        if let born { o["birthDate"] = .string(born) }
        if let gender { o["gender"] = .string(gender) }
        return .object(o)
    }

    @Test func nineYearsInOneSchoolUnderTheAgeLimitMakesATeacherDueForRotationUntilMoved() throws {
        var s = Scenario(TeachersHandler(), now: "2026-03-01T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-1", since: "2017-09-01", born: "1985-04-02", gender: "male"))
        #expect(s.firing("teachers.rotation_due/T-1") == nil)
        try s.advance(days: 200)  // past 2026-09-01
        let due = try #require(s.firing("teachers.rotation_due/T-1"))
        #expect(due.level == .blue && due.summary.contains("满9年"))
        #expect(due.planRef == "District plans (003) §7")
        #expect(due.owner == nil)  // the host's alert desk sets it; a handler does not
        try s.advance(days: 30)
        #expect(s.history("teachers.rotation_due/T-1").count == 1)
        try s.send(TeachersHandler.rosterType, region: "370305", payload: roster("T-1", school: "370305-0001", since: "2026-10-01"))
        #expect(s.firing("teachers.rotation_due/T-1") == nil)
    }

    /// "凡男50周岁、女45周岁以下…的教师, 50周岁以下…的正、副校长, 原则上均应交流".
    @Test(arguments: [
        // (role, gender, born, due on 2026-09-01?)
        ("teacher", "male", "1977-01-01", true),  // 49 on the day: 50 is the limit → due
        ("teacher", "male", "1976-01-01", false),  // 50: over the limit → not due
        ("teacher", "female", "1982-01-01", true),  // 44 → due
        ("teacher", "female", "1981-01-01", false),  // 45 → not due
        ("principal", "female", "1977-06-01", true),  // a principal: 50 whatever the gender; 49 → due
        ("principal", "female", "1976-06-01", false),  // 50 → not due
    ])
    func theAgeLimitsOf003DecideWhoMustRotate(role: String, gender: String, born: String, due: Bool) throws {
        var s = Scenario(TeachersHandler(), now: "2026-03-01T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T", role: role, since: "2017-09-01", born: born, gender: gender))
        try s.advance(days: 200)
        #expect((s.firing("teachers.rotation_due/T") != nil) == due, "\(role) \(gender) born \(born)")
    }

    @Test func aTeacherWhoseAgeIsNotReportedIsFlaggedWithANoteToCheck() throws {
        var s = Scenario(TeachersHandler(), now: "2026-03-01T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-9", since: "2017-09-01"))
        try s.advance(days: 200)
        #expect(s.firing("teachers.rotation_due/T-9")?.summary.contains("未报出生日期") == true)
    }

    /// A peer may send any date the contract allows, up to 9999-12-31: the training cycle that
    /// holds it has no 10001 to end in, and must not trap (it would replay at every restart).
    @Test func datesAtTheEndOfTheCalendarAreTrackedNotTrapped() throws {
        var s = Scenario(TeachersHandler(), now: "2026-03-01T09:00:00+08:00")
        for since in ["9996-01-01", "9999-12-31"] {
            try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-\(since)", since: since))
            try s.send(TeachersHandler.trainingType, region: "370303",
                payload: .object(["teacherId": .string("T-\(since)"), "hours": 40, "completedOn": "9999-12-31"]))
        }
        try s.advance(days: 1)
        #expect(s.firing("teachers.training_shortfall/T-9996-01-01") == nil)
        #expect(TeachersHandler.cycle(containing: LocalDate(iso: "9999-12-31")!).end == LocalDate(iso: "9999-12-31")!)
    }

    @Test func fewerThan360HoursInFiveYearsIsAShortfallThatLateTrainingResolves() throws {
        var s = Scenario(TeachersHandler(), now: "2021-09-01T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-2", since: "2021-09-01"))
        try s.send(TeachersHandler.trainingType, region: "370303",
            payload: .object(["teacherId": "T-2", "hours": 300, "completedOn": "2024-06-30"]))
        try s.advance(days: 5 * 365 + 2)
        let shortfall = try #require(s.firing("teachers.training_shortfall/T-2"))
        #expect(shortfall.level == .yellow && shortfall.summary.contains("300学时"))
        #expect(shortfall.planRef == "District plans (003) §39")
        // The next cycle starts at zero; reaching 360 in it resolves the alert.
        try s.send(TeachersHandler.trainingType, region: "370303",
            payload: .object(["teacherId": "T-2", "hours": 360, "completedOn": "2026-10-01"]))
        #expect(s.firing("teachers.training_shortfall/T-2") == nil)
    }

    /// "确保每位教师完成5年不少于360学时培训任务": the five years are the national cycles
    /// (2016–2020, 2021–2025). A veteran first rostered mid-cycle is judged on that cycle, not on
    /// the ones that ended before the roster reached the bureau; training outside it is not counted.
    @Test func aVeteranIsJudgedOnTheNationalCycleInForce() throws {
        var s = Scenario(TeachersHandler(), now: "2020-03-02T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-5", since: "2005-09-01"))
        try s.advance(days: 1)
        #expect(s.history("teachers.training_shortfall/T-5").isEmpty)  // 2006–2015 are not judged now
        for (hours, on) in [(120, "2015-06-30"), (150, "2017-07-10"), (130, "2019-07-10")] {
            try s.send(TeachersHandler.trainingType, region: "370303",
                payload: .object(["teacherId": "T-5", "hours": .integer(Int64(hours)), "completedOn": .string(on)]))
        }
        try s.advance(days: 310)  // past 2021-01-01, the end of 2016–2020
        let shortfall = try #require(s.firing("teachers.training_shortfall/T-5"))
        #expect(shortfall.summary.contains("2016—2020年培训周期仅280学时, 不足360学时"), "\(shortfall.summary)")
    }

    /// One who joined during a cycle owes its share of the 360 hours, rounded down.
    @Test(arguments: [(200, true), (215, false)])
    func aTeacherWhoJoinedDuringACycleOwesItsShare(hours: Int, short: Bool) throws {
        var s = Scenario(TeachersHandler(), now: "2020-03-02T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-6", since: "2018-01-01"))
        try s.send(TeachersHandler.trainingType, region: "370303",
            payload: .object(["teacherId": "T-6", "hours": .integer(Int64(hours)), "completedOn": "2019-11-20"]))
        try s.advance(days: 310)
        // 2018-01-01 to 2021-01-01 is 1,096 of the cycle's 1,827 days: 360 × 1096 / 1827 = 215.9 → 215.
        #expect((s.firing("teachers.training_shortfall/T-6") != nil) == short)
        if short { #expect(s.firing("teachers.training_shortfall/T-6")?.summary.contains("不足215学时(周期内入职") == true) }
    }

    /// "2024年底前区教研室专职教研员要占本区所辖学段专任教师比例不低于4‰": researchers against
    /// full-time teachers (the researchers are not in the denominator), judged from 2025.
    @Test func researchStaffAreJudgedAgainstFullTimeTeachersFromTheEndOf2024() throws {
        var s = Scenario(TeachersHandler(), now: "2024-10-01T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("R-1", role: "researcher", since: "2020-01-01"))
        for i in 0..<299 { try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-\(i)", since: "2020-01-01")) }
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("P-1", role: "principal", since: "2020-01-01"))
        let share = try #require(s.indicator("teachers.research_staff_share", "370303"))
        #expect(share.numerator == 1 && share.denominator == 300)  // 3.3‰
        // Before the deadline a shortfall is not yet a breach.
        #expect(s.firing("teachers.research_staff_below/370303") == nil)
        try s.advance(days: 92)  // 2025-01-01
        let below = try #require(s.firing("teachers.research_staff_below/370303"))
        #expect(below.level == .yellow && below.planRef == "District plans (003) §32")
        #expect(below.summary.contains("专任教师300人"))
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("R-2", role: "researcher", since: "2020-01-01"))
        #expect(s.indicator("teachers.research_staff_share", "370303")?.numerator == 2)  // 2 of 300: 6.7‰
        #expect(s.firing("teachers.research_staff_below/370303") == nil)
    }

    @Test func itsEventTypesAreValidatedByItsOwnValidators() {
        var s = Scenario(TeachersHandler(), now: "2026-03-01T09:00:00+08:00")
        #expect(throws: Rejection.self) {
            try s.send(TeachersHandler.rosterType, region: "370303", payload: .object(["teacherId": "T", "schoolId": "S", "role": "cook", "since": "2020-01-01"]))
        }
    }
}
