import HandlerKit
import HandlerKitTesting
import Teachers
import Testing

@Suite struct TeachersScenarioTests {
    func roster(_ id: String, school: String = "370303-0042", role: String = "teacher", since: String, left: Bool = false) -> JSONValue {
        .object(["teacherId": .string(id), "schoolId": .string(school), "role": .string(role), "since": .string(since), "left": .bool(left)])
    }

    @Test func nineYearsInOneSchoolMakesATeacherDueForRotationUntilMoved() throws {
        var s = Scenario(TeachersHandler(), now: "2026-03-01T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-1", since: "2017-09-01"))
        #expect(s.firing("teachers.rotation_due/T-1") == nil)
        try s.advance(days: 200)  // past 2026-09-01
        let due = try #require(s.firing("teachers.rotation_due/T-1"))
        #expect(due.level == .blue && due.summary.contains("满9年"))
        try s.advance(days: 30)
        #expect(s.history("teachers.rotation_due/T-1").count == 1)
        try s.send(TeachersHandler.rosterType, region: "370305", payload: roster("T-1", school: "370305-0001", since: "2026-10-01"))
        #expect(s.firing("teachers.rotation_due/T-1") == nil)
    }

    @Test func fewerThan360HoursInFiveYearsIsAShortfallThatLateTrainingResolves() throws {
        var s = Scenario(TeachersHandler(), now: "2021-09-01T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-2", since: "2021-09-01"))
        try s.send(TeachersHandler.trainingType, region: "370303",
            payload: .object(["teacherId": "T-2", "hours": 300, "completedOn": "2024-06-30"]))
        try s.advance(days: 5 * 365 + 2)
        let shortfall = try #require(s.firing("teachers.training_shortfall/T-2"))
        #expect(shortfall.level == .yellow && shortfall.summary.contains("300学时"))
        // The next cycle starts at zero; reaching 360 in it resolves the alert.
        try s.send(TeachersHandler.trainingType, region: "370303",
            payload: .object(["teacherId": "T-2", "hours": 360, "completedOn": "2026-10-01"]))
        #expect(s.firing("teachers.training_shortfall/T-2") == nil)
    }

    @Test func researchStaffBelowFourPerThousandOfTeachers() throws {
        var s = Scenario(TeachersHandler(), now: "2026-03-01T09:00:00+08:00")
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("R-1", role: "researcher", since: "2020-01-01"))
        for i in 0..<300 { try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("T-\(i)", since: "2020-01-01")) }
        // 1 of 301 = 3.3‰
        #expect(s.firing("teachers.research_staff_below/370303")?.level == .yellow)
        #expect(s.firing("teachers.research_staff_below/370300") != nil)
        try s.send(TeachersHandler.rosterType, region: "370303", payload: roster("R-2", role: "researcher", since: "2020-01-01"))
        #expect(s.indicator("teachers.research_staff_share", "370303")?.numerator == 2)
        #expect(s.firing("teachers.research_staff_below/370303") == nil)
    }

    @Test func itsEventTypesAreValidatedByItsOwnValidators() {
        var s = Scenario(TeachersHandler(), now: "2026-03-01T09:00:00+08:00")
        #expect(throws: Rejection.self) {
            try s.send(TeachersHandler.rosterType, region: "370303", payload: .object(["teacherId": "T", "schoolId": "S", "role": "cook", "since": "2020-01-01"]))
        }
    }
}
